package slo_test

import (
	"fmt"

	"github.com/flowtrace/flowtrace/analysis/slo"
)

func ExampleBurnRate() {
	// 1.44% of requests failing against a 99.9% target.
	rate := slo.BurnRate(144, 10000, 0.999)
	fmt.Printf("burn rate %.1f, pages: %v\n", rate, rate >= slo.WorkbookAlerts[0].BurnRate-1e-9)
	// Output: burn rate 14.4, pages: true
}

func ExampleParse() {
	cfg, err := slo.Parse([]byte(`
slos:
  - name: checkout
    critical_operation: checkout
    target: 0.999
    window: 28d
`), "slos.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.SLOs[0].Name, cfg.SLOs[0].Window, len(cfg.Alerts))
	// Output: checkout 672h0m0s 3
}
