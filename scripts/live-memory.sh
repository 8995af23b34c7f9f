#!/usr/bin/env bash
# Memory of `flowtrace serve` under live load: 100,000 traces a minute
# (4 spans each) with 10,000 distinct operation names, for DURATION
# (default 2m). Prints the peak and final RSS, sampled every 5 s, and what
# serve counted. Usage: scripts/live-memory.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-2m}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/flowtrace" ./cmd/flowtrace
go build -o "$work/liveload" ./internal/liveload/cmd/liveload
"$work/flowtrace" serve --grpc 127.0.0.1:14317 --http 127.0.0.1:14318 --slos analysis/testdata/slos.yaml --idle 5s > "$work/serve.out" &
pid=$!
sleep 1
"$work/liveload" -grpc 127.0.0.1:14317 -traces-per-minute 100000 -ops 10000 -duration "$duration" > "$work/load.out" &
load=$!
peak=0
while kill -0 "$load" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  [ "$rss" -gt "$peak" ] && peak=$rss
  echo "rss $((rss / 1024)) MiB"
  sleep 5
done
wait "$load"
cat "$work/load.out"
sleep 6 # idle time: the last traces complete
curl -s http://127.0.0.1:14318/metrics > "$work/metrics"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "serve: peak RSS $((hwm / 1024)) MiB (sampled peak $((peak / 1024)) MiB), final $((rss / 1024)) MiB"
grep -E '^(flowtrace_traces_total|flowtrace_spans_total|flowtrace_spans_held|flowtrace_series_overflow_total|flowtrace_assembly_(split|forced)_total)' "$work/metrics"
echo "series lines: $(grep -vc '^#' "$work/metrics")"
