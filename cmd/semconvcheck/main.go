// Command semconvcheck reports span tag keys and values that do not follow
// flowtrace's semantic conventions (see package semconv/analyzer).
//
// Standalone:
//
//	go install github.com/flowtrace/flowtrace/cmd/semconvcheck
//	semconvcheck ./...
//	semconvcheck -fix ./...             # apply suggested key fixes
//	semconvcheck -registry org.yaml ./... # check against an org registry
//
// As a vet tool:
//
//	go vet -vettool=$(which semconvcheck) ./...
//
// The registry is the embedded default unless -registry or
// FLOWTRACE_SEMCONV_REGISTRY names a file.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/flowtrace/flowtrace/semconv/analyzer"
)

func main() { singlechecker.Main(analyzer.Analyzer) }
