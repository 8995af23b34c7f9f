#!/usr/bin/env bash
# Proves the workshop: every step's solution passes its checker, and the
# state before it (the previous solution; ./shop for step 1) fails it with
# the step's message. Builds each state and the checker once.
set -euo pipefail
cd "$(dirname "$0")"
bin=$(mktemp -d /tmp/flowtrace-workshop.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/check" ./check
go build -o "$bin/semconvcheck" github.com/flowtrace/flowtrace/cmd/semconvcheck
go build -o "$bin/state0" ./shop
last=$(ls -d solutions/step* | sed 's/.*step//' | sort -n | tail -1)
for n in $(seq 1 "$last"); do go build -o "$bin/state$n" "./solutions/step$n"; done
# The first line of each step's message when the step is not done yet.
declare -A expect=(
  [1]="edge, catalog, cart, payment never started the tracer"
  [2]="the edge sent no server span for POST /checkout"
  [3]="the edge's gRPC call to the cart has no client span"
  [4]="the cart publishes the order without a producer span"
  [5]="semconvcheck, the tag analyzer, reports"
  [6]="the payment's log line does not name its trace and flow"
  [7]="no checkout trace arrived"
  [8]="there is no solutions/step7/slos.yaml yet"
)
for n in $(seq 1 "$last"); do
  before=shop; [ "$n" -gt 1 ] && before="solutions/step$((n-1))"
  if ! timeout 120 "$bin/check" -bin "$bin/state$n" -dir "solutions/step$n" -out "$bin/spans.jsonl" -semconvcheck "$bin/semconvcheck" "$n" > "$bin/out"; then
    cat "$bin/out"; echo "workshop: solutions/step$n does not pass check $n"; exit 1
  fi
  if timeout 120 "$bin/check" -bin "$bin/state$((n-1))" -dir "$before" -out "$bin/spans.jsonl" -semconvcheck "$bin/semconvcheck" "$n" > "$bin/out"; then
    cat "$bin/out"; echo "workshop: $before passes check $n, which it must fail"; exit 1
  fi
  if ! grep -qF "${expect[$n]}" "$bin/out"; then
    cat "$bin/out"; echo "workshop: check $n on $before does not say: ${expect[$n]}"; exit 1
  fi
  echo "workshop step $n: solution passes, $before fails with its message"
done
