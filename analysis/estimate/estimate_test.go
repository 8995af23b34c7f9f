package estimate_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestGolden(t *testing.T) {
	fc, err := estimate.ParseForecast("checkout=1200/s,browse=30000/s,add-to-cart=300000/m")
	if err != nil {
		t.Fatal(err)
	}
	est := estimate.Compute(trace.ExcludeTraffic(golden.Shop(t), "load-test"), fc)
	var txt, js bytes.Buffer
	est.WriteText(&txt)
	est.WriteJSON(&js)
	golden.Check(t, "estimate.txt", txt.Bytes())
	golden.Check(t, "estimate.json", js.Bytes())
}

// A hand-checked set:
//
//	trace A, checkout, p=0.5 (weight 2): edge, cart, catalog ×2, 1 message to
//	  orders, payment ×1
//	trace B, checkout, p=1 (weight 1): edge, cart, catalog ×1, 2 messages,
//	  payment ×2
//	trace C, no critical_operation, root "GET /products", p=1: edge, catalog
//
// checkout: weighted traces 3; catalog (2·2+1·1)/3 = 5/3; orders and
// payment (1·2+2·1)/3 = 4/3. At 1200/s: catalog 2000/s, orders 1600/s.
// "GET /products" matches C by root name: 60/m = 1/s, fan-out 1.
func TestHandChecked(t *testing.T) {
	mk := golden.Mk
	a := map[string]any{"critical_operation": "checkout", "sampling.probability": 0.5}
	b := map[string]any{"critical_operation": "checkout", "sampling.probability": 1.0}
	kafka := map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders"}
	with := func(m map[string]any, extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	spans := []*trace.Span{
		mk("A", "1", "", "edge", "POST /checkout", trace.KindServer, 0, 100, a),
		mk("A", "2", "1", "edge", "Checkout", trace.KindClient, 1, 99, a), // client spans are not calls received
		mk("A", "3", "2", "cart", "Checkout", trace.KindServer, 2, 98, a),
		mk("A", "4", "3", "catalog", "GET /products/{id}", trace.KindServer, 3, 10, a),
		mk("A", "5", "3", "catalog", "GET /products/{id}", trace.KindServer, 11, 20, a),
		mk("A", "6", "3", "cart", "orders publish", trace.KindProducer, 21, 22, with(a, kafka)),
		mk("A", "7", "6", "payment", "orders process", trace.KindConsumer, 30, 40, with(a, kafka)),

		mk("B", "1", "", "edge", "POST /checkout", trace.KindServer, 0, 100, b),
		mk("B", "3", "1", "cart", "Checkout", trace.KindServer, 2, 98, b),
		mk("B", "4", "3", "catalog", "GET /products/{id}", trace.KindServer, 3, 10, b),
		mk("B", "6", "3", "cart", "orders publish", trace.KindProducer, 21, 22, with(b, kafka)),
		mk("B", "7", "3", "cart", "orders publish", trace.KindProducer, 23, 24, with(b, kafka)),
		mk("B", "8", "6", "payment", "orders process", trace.KindConsumer, 30, 40, with(b, kafka)),
		mk("B", "9", "7", "payment", "orders process", trace.KindConsumer, 30, 40, with(b, kafka)),

		mk("C", "1", "", "edge", "GET /products", trace.KindServer, 0, 10, nil),
		mk("C", "2", "1", "catalog", "GET /products", trace.KindServer, 1, 9, nil),
	}
	fc, err := estimate.ParseForecast("checkout=1200/s, GET /products=60/m, nothing=5")
	if err != nil {
		t.Fatal(err)
	}
	est := estimate.Compute(trace.Assemble(spans), fc)
	co := est.Operations[0]
	if co.Traces != 2 || co.Weighted != 3 || co.MatchedBy != "critical_operation" || !strings.Contains(co.Warning, "only 2 traces") {
		t.Errorf("checkout: %+v", co)
	}
	fan := map[string]float64{}
	for _, f := range co.Fanout {
		fan[f.Service+" "+f.Operation] = f.PerTrace
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-6 }
	if len(fan) != 4 || !near(fan["edge POST /checkout"], 1) || !near(fan["cart Checkout"], 1) ||
		!near(fan["catalog GET /products/{id}"], 5.0/3) || !near(fan["payment orders process"], 4.0/3) {
		t.Errorf("fan-out: %v", fan)
	}
	if len(co.Topics) != 1 || !near(co.Topics[0].PerTrace, 4.0/3) || co.Topics[0].PerSecond != 1600 || co.Topics[0].Messages != 3 {
		t.Errorf("topics: %+v", co.Topics)
	}
	if br := est.Operations[1]; br.MatchedBy != "root span name" || br.Forecast != 1 || br.Traces != 1 {
		t.Errorf("by root name: %+v", br)
	}
	if none := est.Operations[2]; none.MatchedBy != "none" || none.Warning == "" {
		t.Errorf("unmatched: %+v", none)
	}
	load := map[string]float64{}
	for _, l := range est.Services {
		load[l.Service+" "+l.Operation] = l.PerSecond
	}
	want := map[string]float64{"edge POST /checkout": 1200, "cart Checkout": 1200, "catalog GET /products/{id}": 2000,
		"payment orders process": 1600, "edge GET /products": 1, "catalog GET /products": 1}
	for k, v := range want {
		if !near(load[k], v) {
			t.Errorf("%s: %v/s, want %v/s", k, load[k], v)
		}
	}
	if len(est.Topics) != 1 || est.Topics[0].PerSecond != 1600 {
		t.Errorf("topic totals: %+v", est.Topics)
	}
	if len(est.Warnings()) != 3 {
		t.Errorf("warnings: %v", est.Warnings())
	}
}

func TestParseForecast(t *testing.T) {
	fc, err := estimate.ParseForecast("checkout=1200/s,browse=1800/m,x=3600/h,y=2")
	if err != nil {
		t.Fatal(err)
	}
	want := []estimate.Demand{{"checkout", 1200}, {"browse", 30}, {"x", 1}, {"y", 2}}
	for i, d := range want {
		if fc[i] != d {
			t.Errorf("item %d = %+v, want %+v", i, fc[i], d)
		}
	}
	for _, bad := range []string{"", "x", "=1", "a=1,a=2", "a=-1", "a=1/d", "a=NaN", "a=Inf", "a=b"} {
		if _, err := estimate.ParseForecast(bad); err == nil {
			t.Errorf("ParseForecast(%q): want error", bad)
		}
	}
}

func FuzzParseForecast(f *testing.F) {
	for _, s := range []string{"checkout=1200/s,browse=30000/s", "a=1/m", "a=,b", "=/="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fc, err := estimate.ParseForecast(s)
		if err != nil {
			return
		}
		for _, d := range fc {
			if d.Key == "" || d.PerSecond < 0 || math.IsNaN(d.PerSecond) || math.IsInf(d.PerSecond, 0) {
				t.Errorf("bad demand %+v from %q", d, s)
			}
		}
	})
}
