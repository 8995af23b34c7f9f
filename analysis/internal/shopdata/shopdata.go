// Package shopdata generates a small, deterministic synthetic shop's spans
// for the analysis tools' tests, until the shop demo records real ones.
//
// The shop: an edge gateway (HTTP) calls catalog (HTTP) for browse, and cart
// (gRPC) for add-to-cart and checkout; cart calls catalog (HTTP) once per
// item and, on checkout, produces to the Kafka topic "orders", which the
// payment service consumes. Catalog is sometimes slow and sometimes fails
// (the failure propagates to cart and edge); payment sometimes declines;
// checkout failures spike in the last five minutes. A fifth of the traffic
// is load-test traffic; browse traces are sampled at 0.5, load tests at 0.25.
package shopdata

import (
	"encoding/binary"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ScopeName is the instrumentation scope of generated spans; tests use it to
// tell a generated file from one the demo recorded.
const ScopeName = "flowtrace/analysis/shopdata"

// Base is the start of the generated data.
var Base = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Traces is the number of generated traces.
const Traces = 160

type span struct {
	service, name string
	kind          ptrace.SpanKind
	start, end    time.Time
	attrs         map[string]any
	err           bool
	msg           string
	id, parent    uint64
}

type gen struct {
	rng    *rand.Rand
	nextID uint64
	spans  []*span
	common map[string]any
}

func (g *gen) add(parent *span, service, name string, kind ptrace.SpanKind, start time.Time, attrs map[string]any) *span {
	g.nextID++
	s := &span{service: service, name: name, kind: kind, start: start, attrs: map[string]any{}, id: g.nextID*0x9e3779b97f4a7c15 | 1}
	if parent != nil {
		s.parent = parent.id
	}
	for k, v := range g.common {
		s.attrs[k] = v
	}
	for k, v := range attrs {
		s.attrs[k] = v
	}
	g.spans = append(g.spans, s)
	return s
}

func (g *gen) ms(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Millisecond
}

// catalog adds an edge-or-cart client call to catalog and returns the client
// span's end and whether it failed.
func (g *gen) catalog(parent *span, caller, route string, start time.Time, failP, slowP float64) (time.Time, bool) {
	cl := g.add(parent, caller, "GET", ptrace.SpanKindClient, start, map[string]any{"http.method": "GET", "peer.service": "catalog"})
	sv := g.add(cl, "catalog", "GET "+route, ptrace.SpanKindServer, start.Add(g.ms(1, 2)), map[string]any{"http.method": "GET", "http.route": route})
	d := g.ms(8, 30)
	if g.rng.Float64() < slowP {
		d += g.ms(300, 600)
	}
	sv.end = sv.start.Add(d)
	status := int64(200)
	if g.rng.Float64() < failP {
		sv.err, sv.msg, status = true, "catalog: database unavailable", 503
		cl.err = true
	}
	sv.attrs["http.status_code"] = status
	cl.attrs["http.status_code"] = status
	cl.end = sv.end.Add(g.ms(1, 2))
	return cl.end, cl.err
}

// Generate returns one ptrace.Traces per generated trace, in start order.
func Generate() []ptrace.Traces {
	g := &gen{rng: rand.New(rand.NewPCG(9, 2026))}
	var out []ptrace.Traces
	for i := range Traces {
		g.spans = nil
		start := Base.Add(time.Duration(i)*10*time.Second + g.ms(0, 5000))
		late := i >= Traces-30 // the last five minutes
		op, p := "browse", 0.5
		switch r := g.rng.Float64(); {
		case r >= 0.8:
			op, p = "checkout", 1.0
		case r >= 0.55:
			op, p = "add-to-cart", 1.0
		}
		src := "web"
		switch r := g.rng.Float64(); {
		case r < 0.2:
			src, p = "load-test", 0.25
		case r >= 0.6:
			src = "app"
		}
		g.common = map[string]any{
			"critical_operation":   op,
			"traffic_source":       src,
			"sampling.probability": p,
			"flow_id":              flowID(g.rng),
		}
		switch op {
		case "browse":
			root := g.add(nil, "edge", "GET /products", ptrace.SpanKindServer, start, map[string]any{"http.method": "GET", "http.route": "/products"})
			end, failed := g.catalog(root, "edge", "/products", start.Add(g.ms(1, 3)), 0.02, 0.08)
			root.end = end.Add(g.ms(1, 4))
			status := int64(200)
			if failed {
				status = 502
			} else if g.rng.Float64() < 0.02 {
				status = 500 // the edge's own bug
			}
			if status >= 500 {
				root.err = true
			}
			root.attrs["http.status_code"] = status
		default:
			route, method := "/cart", "AddItem"
			if op == "checkout" {
				route, method = "/checkout", "Checkout"
			}
			root := g.add(nil, "edge", "POST "+route, ptrace.SpanKindServer, start, map[string]any{"http.method": "POST", "http.route": route})
			grpcAttrs := map[string]any{"rpc.system": "grpc", "rpc.service": "cart.Cart", "rpc.method": method}
			cl := g.add(root, "edge", "cart.Cart/"+method, ptrace.SpanKindClient, start.Add(g.ms(1, 3)), grpcAttrs)
			sv := g.add(cl, "cart", "cart.Cart/"+method, ptrace.SpanKindServer, cl.start.Add(g.ms(1, 2)), grpcAttrs)
			t := sv.start.Add(g.ms(1, 3))
			items, failP := 1, 0.03
			if op == "checkout" {
				items = 2
				if late {
					failP = 0.3
				}
			}
			failed := false
			for range items {
				var f bool
				t, f = g.catalog(sv, "cart", "/products/{id}", t, failP, 0.03)
				failed = failed || f
				if f {
					break
				}
			}
			if op == "checkout" && !failed {
				pr := g.add(sv, "cart", "orders publish", ptrace.SpanKindProducer, t, map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders", "messaging.operation": "publish"})
				pr.end = t.Add(g.ms(2, 6))
				t = pr.end
				co := g.add(pr, "payment", "orders process", ptrace.SpanKindConsumer, pr.end.Add(g.ms(5, 40)), map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders", "messaging.operation": "process", "team": "payments"})
				co.end = co.start.Add(g.ms(20, 80))
				if g.rng.Float64() < 0.1 {
					co.err, co.msg = true, "payment: card declined"
				}
			}
			sv.end = t.Add(g.ms(1, 3))
			code := int64(0)
			if failed {
				sv.err, sv.msg, code = true, "catalog unavailable", 14
				cl.err = true
			}
			sv.attrs["rpc.grpc.status_code"] = code
			cl.attrs["rpc.grpc.status_code"] = code
			cl.end = sv.end.Add(g.ms(1, 2))
			root.end = cl.end.Add(g.ms(1, 3))
			status := int64(200)
			if failed {
				status, root.err = 503, true
			}
			root.attrs["http.status_code"] = status
		}
		out = append(out, g.build())
	}
	return out
}

var teams = map[string]string{"edge": "edge-team", "catalog": "catalog-team", "cart": "cart-team"}

func (g *gen) build() ptrace.Traces {
	td := ptrace.NewTraces()
	var tid pcommon.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(tid[8:], g.rng.Uint64())
	byService := map[string]ptrace.SpanSlice{}
	for _, s := range g.spans {
		ss, ok := byService[s.service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", s.service)
			if team, ok := teams[s.service]; ok {
				rs.Resource().Attributes().PutStr("team", team)
			}
			sc := rs.ScopeSpans().AppendEmpty()
			sc.Scope().SetName(ScopeName)
			ss = sc.Spans()
			byService[s.service] = ss
		}
		sp := ss.AppendEmpty()
		sp.SetTraceID(tid)
		sp.SetSpanID(spanID(s.id))
		if s.parent != 0 {
			sp.SetParentSpanID(spanID(s.parent))
		}
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.end))
		if s.err {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage(s.msg)
		}
		putSorted(sp.Attributes(), s.attrs)
	}
	return td
}

// putSorted puts attributes in key order so the output is deterministic.
func putSorted(m pcommon.Map, attrs map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		switch v := attrs[k].(type) {
		case string:
			m.PutStr(k, v)
		case int64:
			m.PutInt(k, v)
		case float64:
			m.PutDouble(k, v)
		case bool:
			m.PutBool(k, v)
		}
	}
}

func spanID(id uint64) pcommon.SpanID {
	var b pcommon.SpanID
	binary.BigEndian.PutUint64(b[:], id)
	return b
}

func flowID(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 16)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

// WriteJSONL writes the generated traces as OTLP/JSON Lines, one
// ExportTraceServiceRequest per trace, as the console exporter does.
func WriteJSONL(w io.Writer) error {
	var m ptrace.JSONMarshaler
	for _, td := range Generate() {
		b, err := m.MarshalTraces(td)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}
