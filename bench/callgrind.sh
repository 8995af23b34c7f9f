#!/bin/sh
# callgrind.sh BINARY >>RAW: instruction counts of the Span, InjectExtract
# and HTTPServer workloads of every tracer, and of issue 18's OpenTelemetry
# API workloads (OTelAPISpan: the same span through flowtrace's two APIs
# and the OpenTelemetry SDK; docs/performance.md quotes them by hand), as
# benchmark lines with the unit instr/op that cmd/report reads next to the
# times. OTelAPISpan is counted over 40,000 spans, not 10,000: its rows
# differ by a few per cent, less than what one garbage collection cycle
# more or less in the window moves a 10,000-span count.
#
# Instructions are counted by valgrind's callgrind with GOMAXPROCS=1 and
# GODEBUG=asyncpreemptoff=1: one thread of Go code at a time, so the count
# includes the batcher's goroutine and the garbage collector, and does not
# depend on the machine's load. Per operation:
#
#	Ir/op = (Ir(N2) - Ir(N1)) / (N2 - N1)
#
# which cancels start-up, the benchmark's set-up and its shutdown (the
# final flush is proportional and stays counted). Each workload is counted
# ROUNDS times (default 3; the report takes the median). One callgrind runs
# at a time.
set -eu
bin=$1
ROUNDS=${ROUNDS:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

ir() { # benchmark regexp, iterations -> total instructions
	GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bin" -test.run '^$' -test.bench "$1" -test.benchtime "$2x" -test.count 1 >/dev/null 2>&1 || {
		echo "callgrind.sh: $1 failed" >&2
		return 1
	}
	awk '/^summary:/ { print $2 }' "$out"
}

count() { # top-level benchmark, sub-benchmark, N1, N2
	a=$(ir "^Benchmark$1\$/^$2\$" "$3")
	b=$(ir "^Benchmark$1\$/^$2\$" "$4")
	echo "Benchmark$1/$2 $(($4 - $3)) $(((b - a) / ($4 - $3))) instr/op"
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
	echo "== callgrind round $r of $ROUNDS" >&2
	for t in noop mocktracer jaeger-null jaeger-remote otel-bridge-otlp flowtrace-otlp flowtrace-nullexport flowtrace-unsampled otel-sdk-discard otel-sdk-otlp; do
		count Span "$t" 1000 11000
	done
	for t in jaeger flowtrace otel-w3c; do
		count InjectExtract "$t" 1000 11000
	done
	for t in bare flowtrace nethttp-jaeger otelhttp-sdk; do
		count HTTPServer "$t" 1000 6000
	done
	for t in flowtrace-otel flowtrace-opentracing flowtrace-opentracing-ctx otel-sdk-otlp \
		flowtrace-otel-unsampled flowtrace-opentracing-unsampled flowtrace-opentracing-ctx-unsampled; do
		count OTelAPISpan "$t" 1000 41000
	done
	r=$((r + 1))
done
