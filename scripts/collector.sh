#!/usr/bin/env bash
# Checks the collector module (collector/): tidy, vet, staticcheck, its
# tests (a real collector pipeline in process), and the builder manifest
# (generated and resolved with --skip-compilation, into a temporary copy
# so the checkout stays clean). The collector's dependency tree is heavy:
# a cold build costs minutes; the Go build cache (~/.cache/go-build) and
# the builder binary (cached under ~/.cache/flowtrace) make later runs
# fast.
set -euo pipefail
cd "$(dirname "$0")/../collector"
cache="${FLOWTRACE_CACHE:-$HOME/.cache/flowtrace}"
builder_version=v0.165.0

cp go.mod /tmp/flowtrace-collector-go.mod.orig; cp go.sum /tmp/flowtrace-collector-go.sum.orig
go mod tidy
if ! diff -q go.mod /tmp/flowtrace-collector-go.mod.orig >/dev/null || ! diff -q go.sum /tmp/flowtrace-collector-go.sum.orig >/dev/null; then
  echo "collector/go.mod or go.sum is not tidy:"; git --no-pager diff -- go.mod go.sum; exit 1
fi
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
go vet ./...
staticcheck ./...
go test -race -count=1 ./...
go test -count=1 -run '^$' -bench . -benchtime=1x ./... > /dev/null

builder="$cache/builder-$builder_version/builder"
if [ ! -x "$builder" ]; then
  GOBIN="$cache/builder-$builder_version" go install "go.opentelemetry.io/collector/cmd/builder@$builder_version"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The manifest's replaces are relative to its output path: keep the
# layout (checkout/collector/_build) in the copy.
mkdir -p "$work/src"
cp -r ../go.mod ../go.sum "$work/src/"
git -C .. ls-files -z | (cd .. && xargs -0 cp --parents -t "$work/src")
(cd "$work/src/collector" && "$builder" --config builder-config.yaml --skip-compilation)
test -f "$work/src/collector/_build/components.go"
grep -q flowtraceconnector.NewFactory "$work/src/collector/_build/components.go"
(cd "$work/src/collector/_build" && go vet ./...)
echo "collector: module checked, builder manifest generates a collector with otlp, flowtrace and prometheus"
