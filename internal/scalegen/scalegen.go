// Package scalegen writes large synthetic OTLP/JSON span files for the
// scale benchmarks of the analysis tools (docs/performance.md): a shop of
// five services whose traces overlap in time, written the way exporters
// write them, one batch of one service per line. Big files are generated
// into a temporary directory when measured, never committed.
//
// Run it as a program: go run ./internal/scalegen/cmd -spans 1000000 -out /tmp/spans.jsonl
package scalegen

import (
	"bufio"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config says what to generate.
type Config struct {
	Spans int // about this many spans (whole traces, so a few more)
	// Concurrent is how many traces are in flight at once (default 64):
	// their spans are interleaved in the output.
	Concurrent int
	// Batch is the number of spans a service exports per line (default
	// 512, the batch span processor's default).
	Batch int
	Seed  uint64
}

// Stats says what was written.
type Stats struct {
	Spans, Traces int
	Bytes         int64
}

type span struct {
	trace, id, parent [16]byte
	service           int
	name              string
	kind              int
	start, end        int64
	err               bool
	attrs             []attr
}

type attr struct {
	key string
	s   string
	i   int64
	f   float64
	typ byte // 's', 'i', 'f'
}

var services = []string{"edge", "catalog", "cart", "order", "payment"}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()

type gen struct {
	r    *rand.Rand
	now  int64
	cfg  Config
	w    *bufio.Writer
	buf  [][]span // per service, spans waiting for a full batch
	out  []byte
	st   Stats
	nid  uint64
	hexb [32]byte
}

func (g *gen) newID() (id [16]byte) {
	g.nid++
	x := g.r.Uint64()
	for i := 0; i < 8; i++ {
		id[i] = byte(x >> (8 * i))
		id[8+i] = byte(g.nid >> (8 * i))
	}
	return id
}

// traceSpans builds one trace starting at start.
func (g *gen) traceSpans(start int64) []span {
	tid := g.newID()
	ms := int64(time.Millisecond)
	prob := []float64{1, 0.5, 0.25}[g.r.IntN(3)]
	common := func(op string) []attr {
		a := []attr{{key: "sampling.probability", f: prob, typ: 'f'}, {key: "flow_id", s: hex.EncodeToString(tid[:6]), typ: 's'}}
		if op != "" {
			a = append(a, attr{key: "critical_operation", s: op, typ: 's'})
		}
		if g.r.IntN(20) == 0 {
			a = append(a, attr{key: "traffic_source", s: "load-test", typ: 's'})
		}
		return a
	}
	mk := func(parent *span, svc int, name string, kind int, off, dur int64, attrs []attr) span {
		s := span{trace: tid, id: g.newID(), service: svc, name: name, kind: kind, start: start + off, end: start + off + dur, attrs: attrs}
		if parent != nil {
			s.parent = parent.id
		}
		s.err = g.r.IntN(200) == 0
		return s
	}
	lat := func(base int64) int64 { return base + int64(g.r.ExpFloat64()*float64(base)) }
	var out []span
	switch k := g.r.IntN(10); {
	case k < 6: // browse: edge -> catalog over HTTP
		c := common("browse")
		root := mk(nil, 0, "GET /browse", 2, 0, lat(20*ms), append(c, attr{key: "http.request.method", s: "GET", typ: 's'}, attr{key: "http.route", s: "/browse", typ: 's'}, attr{key: "http.response.status_code", i: 200, typ: 'i'}))
		out = append(out, root)
		for i := 0; i < 1+g.r.IntN(3); i++ {
			cl := mk(&root, 0, "GET", 3, int64(i+1)*ms, lat(5*ms), append(common("browse"), attr{key: "http.request.method", s: "GET", typ: 's'}, attr{key: "server.address", s: "catalog", typ: 's'}))
			sv := mk(&cl, 1, "GET /products", 2, int64(i+1)*ms+ms/10, lat(4*ms), append(common("browse"), attr{key: "http.route", s: "/products", typ: 's'}, attr{key: "team", s: "catalog-team", typ: 's'}))
			out = append(out, cl, sv)
		}
	case k < 9: // add-to-cart: edge -> cart over gRPC
		root := mk(nil, 0, "POST /cart", 2, 0, lat(15*ms), append(common("add-to-cart"), attr{key: "http.request.method", s: "POST", typ: 's'}, attr{key: "http.route", s: "/cart", typ: 's'}))
		cl := mk(&root, 0, "shop.Cart/AddItem", 3, ms, lat(8*ms), append(common("add-to-cart"), attr{key: "rpc.system", s: "grpc", typ: 's'}, attr{key: "rpc.service", s: "shop.Cart", typ: 's'}))
		sv := mk(&cl, 2, "shop.Cart/AddItem", 2, ms+ms/10, lat(6*ms), append(common("add-to-cart"), attr{key: "rpc.system", s: "grpc", typ: 's'}, attr{key: "rpc.service", s: "shop.Cart", typ: 's'}))
		db := mk(&sv, 2, "SELECT carts", 3, 2*ms, lat(ms), append(common(""), attr{key: "db.system.name", s: "postgresql", typ: 's'}, attr{key: "db.namespace", s: "carts", typ: 's'}))
		out = append(out, root, cl, sv, db)
	default: // checkout: edge -> order (gRPC) -> topic orders -> payment
		root := mk(nil, 0, "POST /checkout", 2, 0, lat(40*ms), append(common("checkout"), attr{key: "http.request.method", s: "POST", typ: 's'}, attr{key: "http.route", s: "/checkout", typ: 's'}))
		cl := mk(&root, 0, "shop.Order/Place", 3, ms, lat(20*ms), append(common("checkout"), attr{key: "rpc.system", s: "grpc", typ: 's'}))
		sv := mk(&cl, 3, "shop.Order/Place", 2, ms+ms/10, lat(18*ms), append(common("checkout"), attr{key: "rpc.system", s: "grpc", typ: 's'}))
		kafka := []attr{{key: "messaging.system", s: "kafka", typ: 's'}, {key: "messaging.destination.name", s: "orders", typ: 's'}}
		pr := mk(&sv, 3, "orders publish", 4, 3*ms, lat(ms), append(common("checkout"), kafka...))
		co := mk(&pr, 4, "orders process", 5, 10*ms, lat(30*ms), append(common("checkout"), kafka...))
		out = append(out, root, cl, sv, pr, co)
	}
	return out
}

// Write writes about cfg.Spans spans as OTLP/JSON lines to w.
func Write(w io.Writer, cfg Config) (Stats, error) {
	if cfg.Concurrent <= 0 {
		cfg.Concurrent = 64
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 512
	}
	g := &gen{r: rand.New(rand.NewPCG(cfg.Seed, 0x5ca1e)), now: t0, cfg: cfg, w: bufio.NewWriterSize(w, 1<<20), buf: make([][]span, len(services))}
	// In-flight traces finish in end order; a finished span goes to its
	// service's batch, as an exporter's queue would take it.
	type pending struct{ spans []span }
	var inflight []pending
	for g.st.Spans < cfg.Spans || len(inflight) > 0 {
		for len(inflight) < cfg.Concurrent && g.st.Spans < cfg.Spans {
			g.now += int64(g.r.IntN(2000)) * int64(time.Microsecond)
			sp := g.traceSpans(g.now)
			g.st.Spans += len(sp)
			g.st.Traces++
			inflight = append(inflight, pending{sp})
		}
		// Emit one trace's spans (the oldest in flight), in end order
		// within the trace, to the services' batches.
		p := inflight[0]
		inflight = inflight[1:]
		for _, s := range p.spans {
			g.buf[s.service] = append(g.buf[s.service], s)
			if len(g.buf[s.service]) >= cfg.Batch {
				if err := g.flush(s.service); err != nil {
					return g.st, err
				}
			}
		}
	}
	for svc := range g.buf {
		if err := g.flush(svc); err != nil {
			return g.st, err
		}
	}
	return g.st, g.w.Flush()
}

func (g *gen) hex(b []byte) []byte {
	n := hex.Encode(g.hexb[:], b)
	return g.hexb[:n]
}

func (g *gen) flush(svc int) error {
	spans := g.buf[svc]
	if len(spans) == 0 {
		return nil
	}
	b := g.out[:0]
	b = append(b, `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"`...)
	b = append(b, services[svc]...)
	b = append(b, `"}},{"key":"team","value":{"stringValue":"`...)
	b = append(b, services[svc]...)
	b = append(b, `-team"}}]},"scopeSpans":[{"scope":{"name":"scalegen"},"spans":[`...)
	for i, s := range spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"traceId":"`...)
		b = append(b, g.hex(s.trace[:])...)
		b = append(b, `","spanId":"`...)
		b = append(b, g.hex(s.id[8:])...)
		if s.parent != ([16]byte{}) {
			b = append(b, `","parentSpanId":"`...)
			b = append(b, g.hex(s.parent[8:])...)
		}
		b = append(b, `","name":"`...)
		b = append(b, s.name...)
		b = append(b, `","kind":`...)
		b = strconv.AppendInt(b, int64(s.kind), 10)
		b = append(b, `,"startTimeUnixNano":"`...)
		b = strconv.AppendInt(b, s.start, 10)
		b = append(b, `","endTimeUnixNano":"`...)
		b = strconv.AppendInt(b, s.end, 10)
		b = append(b, `","attributes":[`...)
		for j, a := range s.attrs {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":"`...)
			b = append(b, a.key...)
			switch a.typ {
			case 's':
				b = append(b, `","value":{"stringValue":"`...)
				b = append(b, a.s...)
				b = append(b, `"}}`...)
			case 'i':
				b = append(b, `","value":{"intValue":"`...)
				b = strconv.AppendInt(b, a.i, 10)
				b = append(b, `"}}`...)
			default:
				b = append(b, `","value":{"doubleValue":`...)
				b = strconv.AppendFloat(b, a.f, 'g', -1, 64)
				b = append(b, `}}`...)
			}
		}
		b = append(b, ']')
		if s.err {
			b = append(b, `,"status":{"code":2}`...)
		}
		b = append(b, '}')
	}
	b = append(b, "]}]}]}\n"...)
	g.out = b
	g.buf[svc] = spans[:0]
	n, err := g.w.Write(b)
	g.st.Bytes += int64(n)
	return err
}
