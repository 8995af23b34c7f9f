package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// The recorded span file, SLOs and golden outputs of package analysis.
var (
	testdata = filepath.Join("..", "..", "analysis", "testdata")
	shopFile = filepath.Join(testdata, "shop.jsonl")
	// demoFile was recorded by the real demo: go run ./examples/shop -duration 3s -rate 80 -out analysis/testdata/demo.jsonl;
	// its golden outputs (golden/demo-*) are the CLI's output on it, rewritten the same way when it is recorded again.
	demoFile = filepath.Join(testdata, "demo.jsonl")
	// mixedFile is a fleet mid-migration: half legacy tag names, half
	// OpenTelemetry's stable ones (analysis TestMixedVocabulary).
	mixedFile = filepath.Join(testdata, "mixed-vocabulary.jsonl")
	sloFile   = filepath.Join(testdata, "slos.yaml")
	// ownersFile is the shop's ownership file (service -> team, channel).
	ownersFile = filepath.Join(testdata, "owners.yaml")
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	shop, slos := shopFile, sloFile
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		golden string // compare stdout with this golden file
		stdout string // or require this substring
	}{
		{"deps mermaid", []string{"deps", shop}, exitOK, "deps.mmd", ""},
		{"deps dot, flags after files", []string{"deps", shop, "--format", "dot", "--quiet"}, exitOK, "deps.dot", ""},
		{"red table", []string{"red", "--format=table", shop}, exitOK, "red.txt", ""},
		{"red csv", []string{"red", "--format", "csv", shop}, exitOK, "red.csv", ""},
		{"red json", []string{"red", "--format", "json", shop}, exitOK, "red.json", ""},
		{"slo", []string{"slo", "--slos", slos, shop}, exitOK, "slo.txt", ""},
		{"slo check fires", []string{"slo", "--check", "--slos", slos, shop}, exitAlerts, "slo.txt", ""},
		{"slo check quiet", []string{"slo", "--check", "--slos", slos, "--now", "2026-03-01T00:00:00Z", shop}, exitOK, "", "compliance 100%"},
		{"slo with load tests", []string{"slo", "--include-load-test", "--slos", slos, shop}, exitOK, "", "SLO checkout-availability"},
		{"triage", []string{"triage", "--slos", slos, shop}, exitOK, "", "page team catalog-team"},
		{"triage with owners", []string{"triage", "--owners", ownersFile, "--slos", slos, shop}, exitOK, "triage-owners-cli.txt", "page team discovery at #discovery-oncall"},
		{"triage owners missing", []string{"triage", "--owners", "no-such-owners.yaml", "--slos", slos, shop}, exitError, "", ""},
		{"triage owners not a file", []string{"triage", "--owners", testdata, "--slos", slos, shop}, exitError, "", ""},
		{"triage by name", []string{"triage", "--slos", slos, "--name", "add-to-cart", shop}, exitOK, "", "nothing to triage"},
		{"estimate", []string{"estimate", "--forecast", "checkout=1200/s,browse=30000/s,add-to-cart=300000/m", shop}, exitOK, "estimate.txt", ""},
		{"estimate json", []string{"estimate", "--format", "json", "--forecast", "checkout=1200/s,browse=30000/s,add-to-cart=300000/m", shop}, exitOK, "estimate.json", ""},
		{"demo deps", []string{"deps", "--quiet", demoFile}, exitOK, "demo-deps.mmd", "topic_orders"},
		{"mixed vocabulary deps", []string{"deps", "--quiet", mixedFile}, exitOK, "mixed-deps.mmd", "grpc 8 calls"},
		{"mixed vocabulary red", []string{"red", "--quiet", mixedFile}, exitOK, "mixed-red.txt", "POST /pay"},
		{"demo red", []string{"red", "--quiet", demoFile}, exitOK, "demo-red.txt", "payment"},
		{"demo estimate", []string{"estimate", "--quiet", "--forecast", "checkout=1200/s,browse=30000/s,add-to-cart=4000/s", demoFile}, exitOK, "demo-estimate.txt", "checkout at 1200/s"},
		{"coverage", []string{"coverage", "--owners", ownersFile, "--expect", "refund", shop}, exitOK, "", "checkout: 4 of 4 hops traced"},
		{"coverage of an expected operation", []string{"coverage", "--expect", "refund", shop}, exitOK, "", "refund: no trace seen: not traced at all"},
		{"coverage json", []string{"coverage", "--format", "json", shop}, exitOK, "", `"traced_hops": 4`},
		{"coverage mermaid", []string{"coverage", "--format", "mermaid", shop}, exitOK, "", "subgraph op"},
		{"coverage bad format", []string{"coverage", "--format", "svg", shop}, exitUsage, "", ""},
		{"help", []string{"help"}, exitOK, "", "estimate"},
		{"new without a name", []string{"new"}, exitUsage, "", ""},
		{"new inside the checkout without --dir", []string{"new", "cart"}, exitUsage, "", ""},
		{"new with workspace and replace", []string{"new", "--dir", "unused", "--workspace", "../..", "--replace", "../..", "cart"}, exitUsage, "", ""},
		{"no args", nil, exitUsage, "", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", ""},
		{"no input", []string{"red"}, exitUsage, "", ""},
		{"bad format", []string{"red", "--format", "xml", shop}, exitUsage, "", ""},
		{"bad flag", []string{"red", "--nope", shop}, exitUsage, "", ""},
		{"missing slos", []string{"slo", shop}, exitUsage, "", ""},
		{"bad forecast", []string{"estimate", "--forecast", "checkout=fast", shop}, exitUsage, "", ""},
		{"missing file", []string{"red", "does-not-exist.jsonl"}, exitError, "", ""},
		{"files and jaeger", []string{"red", "--jaeger", "http://127.0.0.1:1", shop}, exitUsage, "", ""},
		{"subcommand help", []string{"slo", "-h"}, exitOK, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if tc.golden != "" {
				want, err := os.ReadFile(filepath.Join(testdata, "golden", tc.golden))
				if err != nil {
					t.Fatal(err)
				}
				if stdout != string(want) {
					t.Errorf("stdout differs from %s:\n%s", tc.golden, stdout)
				}
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if code != exitOK && code != exitAlerts && stderr == "" {
				t.Error("failure without a message on stderr")
			}
		})
	}
}

func TestBadInputNamesLine(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(f, []byte("{\"resourceSpans\":[]}\n{oops\n"), 0o644)
	code, _, stderr := runCLI(t, "red", f)
	if code != exitError || !strings.Contains(stderr, "bad.jsonl:2: invalid JSON") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	sl := filepath.Join(t.TempDir(), "slos.yaml")
	os.WriteFile(sl, []byte("slos:\n  - name: x\n    critical_operation: c\n    target: 1.5\n    window: 1d\n"), 0o644)
	code, _, stderr = runCLI(t, "slo", "--slos", sl, shopFile)
	if code != exitError || !strings.Contains(stderr, "slos.yaml:4: slos[0].target") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// FLOWTRACE_OWNERS names the ownership file when --owners is not given;
// the flag wins over it.
func TestOwnersEnv(t *testing.T) {
	t.Setenv("FLOWTRACE_OWNERS", ownersFile)
	code, stdout, stderr := runCLI(t, "triage", "--slos", sloFile, shopFile)
	if code != exitOK || !strings.Contains(stdout, "page team discovery at #discovery-oncall") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	other := filepath.Join(t.TempDir(), "owners.yaml")
	os.WriteFile(other, []byte("services:\n  catalog: {team: search}\n"), 0o644)
	code, stdout, _ = runCLI(t, "triage", "--owners", other, "--slos", sloFile, shopFile)
	if code != exitOK || !strings.Contains(stdout, "page team search\n") {
		t.Errorf("--owners should win over FLOWTRACE_OWNERS: exit %d\n%s", code, stdout)
	}
	t.Setenv("FLOWTRACE_OWNERS", filepath.Join(t.TempDir(), "missing.yaml"))
	code, _, stderr = runCLI(t, "triage", "--slos", sloFile, shopFile)
	if code != exitError || !strings.Contains(stderr, "missing.yaml") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestJaegerSource(t *testing.T) {
	srv := newJaeger(t)
	code, stdout, stderr := runCLI(t, "deps", "--jaeger", srv, "--quiet")
	if code != exitOK || !strings.Contains(stdout, `svc_frontend -->|"http 2 calls, 100.0% err`) {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "red", "--jaeger", srv, "--service", "frontend", "--format", "csv")
	if code != exitOK || !strings.Contains(stdout, "catalog,GET /products,server,1") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
}

func TestRegistry(t *testing.T) {
	for _, name := range []string{"deps", "red", "slo", "triage", "estimate", "coverage", "new"} {
		if _, ok := commands[name]; !ok {
			t.Errorf("command %q not registered", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice should panic")
		}
	}()
	register(command{name: "red"})
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestNewWritesWhereAsked runs new from inside this checkout (the test's
// working directory is cmd/flowtrace): without --dir it refuses and writes
// nothing into the checkout; with --dir it writes there, and --replace
// leaves a module that builds on its own.
func TestNewWritesWhereAsked(t *testing.T) {
	code, _, stderr := runCLI(t, "new", "cart")
	if code != exitUsage || !strings.Contains(stderr, "inside the flowtrace checkout") || !strings.Contains(stderr, "--dir") {
		t.Fatalf("new cart inside the checkout: exit %d, stderr %q; want a usage error naming --dir", code, stderr)
	}
	if _, err := os.Stat("cart"); !os.IsNotExist(err) {
		t.Fatalf("new wrote ./cart into the checkout: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "cart")
	code, stdout, stderr := runCLI(t, "new", "--dir", dir, "--replace", "../..", "cart")
	if code != exitOK {
		t.Fatalf("new --dir --replace: exit %d\n%s", code, stderr)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "replace github.com/flowtrace/flowtrace => "+root) {
		t.Errorf("go.mod does not replace flowtrace by %s:\n%s", root, gomod)
	}
	// go mod tidy ran (with the module cache this test's build filled) and
	// listed the indirect requirements.
	if !strings.Contains(stdout, "completed by go mod tidy") || !strings.Contains(string(gomod), "// indirect") {
		t.Errorf("go mod tidy did not complete go.mod (stdout %q, stderr %q):\n%s", stdout, stderr, gomod)
	}
}
