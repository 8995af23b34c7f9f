#!/usr/bin/env bash
# Scale benchmark of the trace tools (docs/performance.md, "Trace tools at
# scale"): generates a synthetic span file of N spans (default 1,000,000)
# in a temporary directory, runs deps, red, estimate, slo and triage on it
# under /usr/bin/time -v and prints wall time, CPU time and peak RSS, with
# the machine's load average (other work on the machine slows wall time;
# user+sys CPU is the comparable figure). The file is deleted afterwards;
# nothing is committed.
#
#   scripts/scale.sh [SPANS] [FILE]
#
# With FILE (a span file scalegen wrote earlier) nothing is generated.
set -euo pipefail
cd "$(dirname "$0")/.."
spans=${1:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/flowtrace" ./cmd/flowtrace
file=${2:-}
if [ -z "$file" ]; then
  file="$dir/spans.jsonl"
  go run ./internal/scalegen/cmd -spans "$spans" -out "$file"
fi
echo "file: $(stat -c %s "$file") bytes"
# SLOs over the generated shop's operations (internal/scalegen).
cat > "$dir/slos.yaml" <<'YAML'
slos:
  - {name: checkout, critical_operation: checkout, target: 0.999, window: 28d}
  - {name: browse-latency, service: edge, operation: GET /browse, latency: 40ms, target: 0.99, window: 28d}
  - {name: add-to-cart, critical_operation: add-to-cart, target: 0.999, window: 7d}
YAML
for cmd in red deps "estimate --forecast checkout=1200/s,browse=30000/s,add-to-cart=4000/s" \
  "slo --slos $dir/slos.yaml" "triage --slos $dir/slos.yaml"; do
  name=${cmd%% *}
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  # shellcheck disable=SC2086
  /usr/bin/time -v "$dir/flowtrace" $cmd --quiet "$file" > /dev/null 2> "$dir/time.txt" || {
    code=$?
    # slo exits 0 or 1 (an SLO matching nothing) and never 3 without --check.
    [ "$code" -eq 1 ] || { cat "$dir/time.txt" >&2; exit "$code"; }
  }
  wall=$(grep 'Elapsed (wall clock)' "$dir/time.txt" | awk '{print $NF}')
  user=$(grep 'User time' "$dir/time.txt" | awk '{print $NF}')
  sys=$(grep 'System time' "$dir/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/time.txt" | awk '{print $NF}')
  printf '%-9s spans=%s wall=%s user=%ss sys=%ss peak_rss=%d MiB load_before=%s\n' "$name" "$spans" "$wall" "$user" "$sys" $((rss / 1024)) "$load"
done
