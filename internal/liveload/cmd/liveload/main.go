// Command liveload sends liveload's synthetic traces over OTLP/gRPC at a
// steady rate (scripts/live-memory.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/flowtrace/flowtrace/internal/liveload"
)

func main() {
	addr := flag.String("grpc", "127.0.0.1:14317", "OTLP/gRPC `address`")
	perMinute := flag.Int("traces-per-minute", 100_000, "traces sent per minute")
	ops := flag.Int("ops", 10_000, "distinct operation names")
	d := flag.Duration("duration", time.Minute, "how long to send")
	flag.Parse()
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	const batch = 100
	every := time.Duration(float64(time.Minute) / float64(*perMinute) * batch)
	tick := time.NewTicker(every)
	defer tick.Stop()
	end := time.Now().Add(*d)
	sent, behind := 0, 0
	for now := time.Now(); now.Before(end); now = <-tick.C {
		req := ptraceotlp.NewExportRequestFromTraces(liveload.Batch(sent, batch, *ops, time.Now()))
		if _, err := client.Export(context.Background(), req); err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
		sent += batch
		if time.Since(now) > every {
			behind++
		}
	}
	fmt.Printf("sent %d traces in %s (%d batches late)\n", sent, *d, behind)
}
