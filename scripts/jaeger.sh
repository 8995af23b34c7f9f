#!/usr/bin/env bash
# Builds a Jaeger v2 all-in-one binary from the Go module proxy (go install
# does not work: Jaeger's go.mod has a replace directive) and caches it
# outside the clone, so only the first run pays for the build (~6 min).
# Prints the binary's path.
set -euo pipefail
version=v1.76.0
cache="${FLOWTRACE_CACHE:-$HOME/.cache/flowtrace}"
bin="$cache/jaeger-$version/jaeger"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
dir=$(go mod download -json "github.com/jaegertracing/jaeger@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "jaeger.sh: module download failed" >&2; exit 1; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && GOFLAGS=-mod=mod go build -o "$work/jaeger" ./cmd/jaeger) >&2
mkdir -p "$(dirname "$bin")"
mv "$work/jaeger" "$bin"
echo "$bin"
