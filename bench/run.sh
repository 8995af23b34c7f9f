#!/bin/sh
# run.sh runs the whole comparison and writes ../docs/performance.md and
# the performance table of ../README.md (README= to change which).
#
#   ./run.sh                 # COUNT=6 rounds (benchstat needs 6 for a 95% interval)
#   COUNT=3 ./run.sh         # fewer rounds (say so when you publish)
#   OUT=/tmp/perf.md ./run.sh
#
# Each round runs every benchmark once (-count 1), so that a burst of load
# on a shared machine hits all tracers alike instead of one tracer's five
# runs; the report takes medians over the rounds. Needs benchstat
# (go install golang.org/x/perf/cmd/benchstat@latest); without it the
# confidence intervals are left out. About 1.5 minutes per round on 2 cores.
#
# Then callgrind.sh counts instructions (valgrind, GOMAXPROCS=1) for the
# span, propagation, in-process HTTP and OpenTelemetry API workloads, 3
# rounds, about 20 minutes; IR=0 leaves them out.
#
# The raw output is kept in last-run.txt. After revising the explanations
# of missed targets (limits in cmd/report), regenerate the documents from
# it instead of measuring again, with the run's own revision and date:
#
#   benchstat last-run.txt >/tmp/stat.txt
#   go run ./cmd/report -in last-run.txt -benchstat /tmp/stat.txt -count 6 \
#     -rev REV -date "YYYY-MM-DD hh:mm UTC" -out ../docs/performance.md -readme ../README.md
set -eu
cd "$(dirname "$0")"
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-../docs/performance.md}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The raw output is kept beside this script: the numbers behind the report.
raw=${RAW:-last-run.txt}
started=$(date -u "+%Y-%m-%d %H:%M UTC")

go test -c -o "$work/bench.test" .
: >"$raw"
run() { # benchmark regexp, benchtime
	"$work/bench.test" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.count 1 | tee -a "$raw"
}
i=1
while [ "$i" -le "$COUNT" ]; do
	echo "== round $i of $COUNT" >&2
	run '^Benchmark(Span|InjectExtract|HTTPServer|HTTPLoopback|GRPCUnary)$' "$BENCHTIME"
	run '^BenchmarkKafka$' 10x
	run '^BenchmarkExport$' 50000x
	run '^BenchmarkFinishBlackholed$' 1x
	i=$((i + 1))
done
if [ "${IR:-1}" != 0 ]; then
	if command -v valgrind >/dev/null; then
		./callgrind.sh "$work/bench.test" | tee -a "$raw"
	else
		echo "valgrind not found (apt-get install valgrind): instruction counts left out" >&2
	fi
fi

stat=$work/benchstat.txt
bs=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
if [ -x "$bs" ]; then
	"$bs" "$raw" >"$stat"
else
	echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest" >&2
	: >"$stat"
fi
rev=$(git rev-parse --short HEAD 2>/dev/null || true)
# The raw file this script has just written does not make the tree dirty.
if [ -n "$rev" ] && [ -n "$(git status --porcelain -- .. ":(exclude)$raw" 2>/dev/null)" ]; then
	rev="$rev with uncommitted changes"
fi
go run ./cmd/report -in "$raw" -benchstat "$stat" -count "$COUNT" -rev "$rev" -date "$started" -out "$OUT" -readme "${README:-../README.md}"
echo "wrote $OUT" >&2
