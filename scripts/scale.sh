#!/usr/bin/env bash
# Scale benchmark of the trace tools (docs/performance.md, "Trace tools at
# scale"): generates a synthetic span file of N spans (default 1,000,000)
# in a temporary directory, runs deps, red and estimate on it under
# /usr/bin/time -v and prints wall time, CPU time and peak RSS, with the
# machine's load average (other work on the machine slows wall time).
# The file is deleted afterwards; nothing is committed.
#
#   scripts/scale.sh [SPANS]
set -euo pipefail
cd "$(dirname "$0")/.."
spans=${1:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/flowtrace" ./cmd/flowtrace
go run ./internal/scalegen/cmd -spans "$spans" -out "$dir/spans.jsonl"
echo "file: $(stat -c %s "$dir/spans.jsonl") bytes"
for cmd in red deps "estimate --forecast checkout=1200/s,browse=30000/s,add-to-cart=4000/s"; do
  name=${cmd%% *}
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  # shellcheck disable=SC2086
  /usr/bin/time -v "$dir/flowtrace" $cmd --quiet "$dir/spans.jsonl" > /dev/null 2> "$dir/time.txt"
  wall=$(grep 'Elapsed (wall clock)' "$dir/time.txt" | awk '{print $NF}')
  user=$(grep 'User time' "$dir/time.txt" | awk '{print $NF}')
  sys=$(grep 'System time' "$dir/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/time.txt" | awk '{print $NF}')
  printf '%-9s spans=%s wall=%s user=%ss sys=%ss peak_rss=%d MiB load_before=%s\n' "$name" "$spans" "$wall" "$user" "$sys" $((rss / 1024)) "$load"
done
