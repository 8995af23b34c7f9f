package semconv

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/tracer"
)

func TestDefaultRegistry(t *testing.T) {
	reg := Default()
	require.Equal(t, DefaultName, reg.Name())
	for _, key := range []string{"span.kind", "http.status_code", "flow_id", "critical_operation", "traffic_source", "rpc.grpc.status_code", "messaging.kafka.offset", "event"} {
		_, ok := reg.Lookup(key)
		require.True(t, ok, key)
	}
	d, ok := reg.Lookup("http.request.header.x-tenant")
	require.True(t, ok)
	require.True(t, d.Template)
	_, ok = reg.Lookup("http.request.header.")
	require.False(t, ok, "a template needs a suffix")
	d, _ = reg.Lookup("http.status_code")
	require.Equal(t, TypeInt, d.Type)
	require.Equal(t, "HTTPStatusCode", d.GoName)
	require.Equal(t, []tracer.SpanKind{tracer.KindServer}, d.RequiredFor)
	req := reg.Required(tracer.KindServer)
	require.Empty(t, req.Always)
	require.Equal(t, map[string][]string{
		"http": {"http.method", "http.status_code"}, "http_stable": {"http.request.method", "http.response.status_code"},
		"rpc": {"rpc.system"}, "rpc_stable": {"rpc.system.name"},
	}, req.Groups)
}

// TestMiddlewareKeys keeps the registry complete: every tag key a
// middleware package declares or uses as a literal must be registered.
func TestMiddlewareKeys(t *testing.T) {
	files, _ := filepath.Glob("../middleware/*/*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && len(call.Args) > 0 {
				// SetTag("key", v) and log.String("key", v) with a literal key.
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					pkg, _ := sel.X.(*ast.Ident)
					if sel.Sel.Name == "SetTag" || (pkg != nil && pkg.Name == "log") {
						if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							key := strings.Trim(lit.Value, "\"`")
							_, ok = Default().Lookup(key)
							require.True(t, ok, "%s: %q is not in the registry", fset.Position(lit.Pos()), key)
						}
					}
				}
			}
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Tag") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				key := strings.Trim(lit.Value, "\"`")
				_, ok = Default().Lookup(key)
				require.True(t, ok, "%s: %s = %q is not in the registry", fset.Position(lit.Pos()), id.Name, key)
			}
			return true
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"duplicate key", "tags:\n  - key: a\n    type: string\n  - key: a\n    type: int\n", `x.yaml:4: duplicate key "a" (first defined at line 2)`},
		{"bad type", "tags:\n  - key: a\n    type: integer\n", `x.yaml:3: unknown type "integer"`},
		{"no type", "tags:\n  - key: a\n", `x.yaml:2: tag "a" has no type`},
		{"unknown span kind", "tags:\n  - key: a\n    type: string\n    required_for: [server, backend]\n", `x.yaml:4: unknown span kind "backend"`},
		{"bad pattern", "tags:\n  - key: a\n    type: string\n    pattern: '(['\n", `x.yaml:4: bad pattern`},
		{"pattern on int", "tags:\n  - key: a\n    type: int\n    pattern: '^1$'\n", `x.yaml:4: pattern on int tag "a"`},
		{"enum of wrong type", "tags:\n  - key: a\n    type: int\n    enum: [1, two]\n", `x.yaml:4: enum value "two" of int tag "a" is not an integer`},
		{"unquoted number in string enum", "tags:\n  - key: a\n    type: string\n    enum: [x, 1]\n", `x.yaml:4: enum value 1 of string tag "a" is a int; quote it`},
		{"enum and pattern", "tags:\n  - key: a\n    type: string\n    enum: [x]\n    pattern: x\n", `x.yaml:5: tag "a" has both enum and pattern`},
		{"bad key", "tags:\n  - key: A.B\n    type: string\n", `x.yaml:2: invalid key "A.B"`},
		{"unknown field", "tags:\n  - key: a\n    type: string\n    colour: red\n", `x.yaml:4: unknown field "colour"`},
		{"unknown stability", "tags:\n  - key: a\n    type: string\n    stability: beta\n", `x.yaml:4: unknown stability "beta"`},
		{"group without required_for", "tags:\n  - key: a\n    type: string\n    requirement_group: g\n", `x.yaml:4: requirement_group without required_for`},
		{"required log field", "tags:\n  - key: a\n    type: string\n    in: [log]\n    required_for: [server]\n", `x.yaml:5: log field "a" cannot be a required tag`},
		{"template of int", "tags:\n  - key: a.*\n    type: int\n", `x.yaml:2: template "a.*" must be of type string`},
		{"replaced_by unknown", "tags:\n  - key: a\n    type: string\n    stability: deprecated\n    replaced_by: b\n", `x.yaml:2: "a" is replaced by unknown key "b"`},
		{"go name clash", "tags:\n  - key: a.b\n    type: string\n  - key: a_b\n    type: string\n", `x.yaml:4: Go name AB of "a_b" is also used by "a.b" (x.yaml:2)`},
		{"reserved go name", "tags:\n  - key: registry\n    type: string\n", `x.yaml:2: Go name Registry of "registry" is taken`},
		{"not yaml", "tags: [\n", `x.yaml:1: yaml:`},
		{"not a mapping", "- a\n", `x.yaml:1: registry must be a mapping`},
		{"no tags", "version: 1\n", `x.yaml:1: no tags list`},
		{"bad version", "version: 2\ntags: []\n", `x.yaml:1: unsupported version "2"`},
		{"empty", "", `x.yaml:1: empty registry`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.yaml), "x.yaml")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			var le *LoadError
			require.True(t, errors.As(err, &le))
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	_, err := Load(strings.NewReader("tags:\n  - key: a\n    type: bad\n  - key: b\n    type: string\n    required_for: [nope]\n"), "x.yaml")
	require.ErrorContains(t, err, "x.yaml:3:")
	require.ErrorContains(t, err, "x.yaml:6:")
}

func TestExtend(t *testing.T) {
	extra, err := Load(strings.NewReader(`tags:
  - key: critical_operation
    type: string
    enum: [checkout, add-to-cart]
  - key: shop.cart_size
    type: int
`), "org.yaml")
	require.NoError(t, err)
	reg, err := Extend(Default(), extra)
	require.NoError(t, err)
	d, _ := reg.Lookup("critical_operation")
	require.Equal(t, []any{"checkout", "add-to-cart"}, d.Enum, "extra overrides by key")
	require.Equal(t, "org.yaml", d.File)
	_, ok := reg.Lookup("shop.cart_size")
	require.True(t, ok)
	_, ok = reg.Lookup("http.method")
	require.True(t, ok, "base keys stay")
	_, ok = Default().Lookup("shop.cart_size")
	require.False(t, ok, "Default is not changed")

	// The same through a file that says so, named by the environment.
	path := filepath.Join(t.TempDir(), "org.yaml")
	require.NoError(t, os.WriteFile(path, []byte("extends: default\ntags:\n  - key: shop.cart_size\n    type: int\n"), 0o600))
	t.Setenv(EnvRegistry, path)
	reg, err = FromEnv()
	require.NoError(t, err)
	_, ok = reg.Lookup("shop.cart_size")
	require.True(t, ok)
	_, ok = reg.Lookup("http.method")
	require.True(t, ok)

	// Without extends the file replaces the default.
	require.NoError(t, os.WriteFile(path, []byte("tags:\n  - key: shop.cart_size\n    type: int\n"), 0o600))
	reg, err = LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, []string{"shop.cart_size"}, reg.Keys())

	t.Setenv(EnvRegistry, filepath.Join(t.TempDir(), "missing.yaml"))
	_, err = FromEnv()
	require.Error(t, err)
}

func TestSuggest(t *testing.T) {
	reg := Default()
	for in, want := range map[string]string{
		"http.statuscode":    "http.status_code",
		"http.status_code":   "http.status_code",
		"flowid":             "flow_id",
		"critical_operaton":  "critical_operation",
		"completely.unknown": "",
	} {
		require.Equal(t, want, reg.Suggest(in), in)
	}
	require.Equal(t, 3, Levenshtein("kitten", "sitting"))
	require.Equal(t, 0, Levenshtein("", ""))
	require.Equal(t, 4, Levenshtein("", "abcd"))
}

// TestSuggestHugeKey is the case that made the root package's
// TestLogsCannotBeForged take minutes under -race: a 1 MiB unknown tag key
// was compared by edit distance with every registered key. A key whose
// length is far from every registered key's cannot be within the
// suggestion limit, so it gets no suggestion without computing a distance.
func TestSuggestHugeKey(t *testing.T) {
	reg := Default()
	for _, key := range []string{
		strings.Repeat("k", 1<<20),
		"http.status_code" + strings.Repeat("k", 1<<20),
		strings.Repeat("http.method", 1000),
	} {
		require.Empty(t, reg.Suggest(key), "len %d", len(key))
	}
	// A key just past the longest registered key is still compared.
	longest := ""
	for _, k := range reg.Keys() {
		if len(k) > len(longest) {
			longest = k
		}
	}
	require.Equal(t, longest, reg.Suggest(longest+"x"))
}

// TestReservedNames keeps reservedNames equal to the exported identifiers
// declared by hand, so that a registry key can never generate a clashing
// helper.
func TestReservedNames(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	got := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "tags_gen.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					got[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							got[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								got[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	require.Equal(t, got, reservedNames)
}

func FuzzLoad(f *testing.F) {
	f.Add(string(defaultRegistry))
	f.Add("tags:\n  - key: a\n    type: string\n    enum: [x]\n")
	f.Add("extends: default\ntags: []\n")
	f.Add("tags:\n  - key: a.*\n    type: string\n    required_for: [server]\n    requirement_group: g\n")
	f.Add("tags: {a: b}\n")
	f.Add("[")
	f.Fuzz(func(t *testing.T, s string) {
		reg, err := Load(strings.NewReader(s), "fuzz.yaml")
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is not a *LoadError: %v", err)
			}
			return
		}
		// A registry that loads must work with the enforcer.
		e := NewEnforcer(reg, Strict, WithLogger(slog.New(slog.DiscardHandler)))
		defer e.Close()
		for _, d := range reg.Definitions() {
			e.CheckTag(d.Key+"x", "v")
			e.CheckTag(d.Key, 1)
		}
		e.CheckFinish("op", tracer.KindServer, nil)
	})
}
