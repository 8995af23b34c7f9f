package analyzer_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/flowtrace/flowtrace/semconv/analyzer"
	"github.com/flowtrace/flowtrace/semconv/stability"
)

func TestAnalyzer(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), analyzer.Analyzer, "a")
}

// TestAnalyzerOptIn: under a switch that moves a category to the stable
// names, a literal legacy key is reported, with a fix when the stable key
// is a plain rename (stability.Table).
func TestAnalyzerOptIn(t *testing.T) {
	o, unknown := stability.Parse("http,database/dup")
	if len(unknown) > 0 {
		t.Fatal(unknown)
	}
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), analyzer.NewOptIn(nil, o), "b")
}
