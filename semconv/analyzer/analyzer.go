package analyzer

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
)

const (
	otPkg  = "github.com/opentracing/opentracing-go"
	logPkg = "github.com/opentracing/opentracing-go/log"
)

// Analyzer checks tag keys and values against the registry.
var Analyzer = New(nil)

// New returns an analyzer checking against reg; nil means the registry
// named by the -registry flag or FLOWTRACE_SEMCONV_REGISTRY, else the
// default one.
func New(reg *semconv.Registry) *analysis.Analyzer {
	return newAnalyzer(&checker{reg: reg})
}

// NewOptIn returns an analyzer checking against reg (nil: as New) that
// judges literal legacy keys against the switch optIn instead of the
// -opt-in flag or OTEL_SEMCONV_STABILITY_OPT_IN.
func NewOptIn(reg *semconv.Registry, optIn stability.OptIn) *analysis.Analyzer {
	return newAnalyzer(&checker{reg: reg, optIn: &optIn})
}

func newAnalyzer(c *checker) *analysis.Analyzer {
	reg := c.reg
	a := &analysis.Analyzer{
		Name:     "semconvcheck",
		Doc:      "check span tag keys and values against flowtrace's semantic conventions",
		URL:      "https://pkg.go.dev/github.com/flowtrace/flowtrace/semconv/analyzer",
		Requires: []*analysis.Analyzer{inspect.Analyzer},
		Run:      c.run,
	}
	if reg == nil {
		a.Flags.StringVar(&c.path, "registry", "", "registry file (default: $FLOWTRACE_SEMCONV_REGISTRY, else the embedded registry)")
	}
	if c.optIn == nil {
		a.Flags.StringVar(&c.optInFlag, "opt-in", "", "OTEL_SEMCONV_STABILITY_OPT_IN value to judge literal legacy keys against (default: $OTEL_SEMCONV_STABILITY_OPT_IN)")
	}
	return a
}

type checker struct {
	path string
	once sync.Once
	reg  *semconv.Registry
	err  error

	optInFlag string
	optIn     *stability.OptIn
	optOnce   sync.Once
}

// switchValue returns the switch literal keys are judged against.
func (c *checker) switchValue() stability.OptIn {
	c.optOnce.Do(func() {
		if c.optIn != nil {
			return
		}
		o := stability.FromEnv()
		if c.optInFlag != "" {
			o, _ = stability.Parse(c.optInFlag)
		}
		c.optIn = &o
	})
	return *c.optIn
}

func (c *checker) registry() (*semconv.Registry, error) {
	c.once.Do(func() {
		if c.reg != nil {
			return
		}
		path := c.path
		if path == "" {
			path = os.Getenv(semconv.EnvRegistry)
		}
		if path == "" {
			c.reg = semconv.Default()
			return
		}
		c.reg, c.err = semconv.LoadFile(path)
	})
	return c.reg, c.err
}

// logFieldTypes maps opentracing-go/log constructors to the registry type
// of their value.
var logFieldTypes = map[string]semconv.Type{
	"String": semconv.TypeString, "Bool": semconv.TypeBool, "Int": semconv.TypeInt, "Int32": semconv.TypeInt,
	"Int64": semconv.TypeInt, "Uint32": semconv.TypeInt, "Uint64": semconv.TypeInt,
	"Float32": semconv.TypeFloat, "Float64": semconv.TypeFloat, "Error": 0, "Object": 0, "Lazy": 0,
}

func (c *checker) run(pass *analysis.Pass) (any, error) {
	reg, err := c.registry()
	if err != nil {
		return nil, err
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	nodes := []ast.Node{(*ast.CallExpr)(nil), (*ast.CompositeLit)(nil)}
	ins.Preorder(nodes, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallExpr:
			c.call(pass, reg, n)
		case *ast.CompositeLit:
			c.tagLiteral(pass, reg, n)
		}
	})
	return nil, nil
}

func (c *checker) call(pass *analysis.Pass, reg *semconv.Registry, call *ast.CallExpr) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return
	}
	fn, ok := pass.TypesInfo.Uses[sel.Sel].(*types.Func)
	if !ok {
		return
	}
	sig := fn.Type().(*types.Signature)
	switch {
	case sig.Recv() != nil && fn.Name() == "SetTag" && len(call.Args) == 2 && isString(sig.Params().At(0).Type()):
		c.check(pass, reg, call.Args[0], call.Args[1], 0, semconv.InTag)
	case sig.Recv() != nil && fn.Name() == "LogKV" && sig.Variadic():
		if call.Ellipsis.IsValid() {
			return
		}
		for i := 0; i+1 < len(call.Args); i += 2 {
			c.check(pass, reg, call.Args[i], call.Args[i+1], 0, semconv.InLog)
		}
	case sig.Recv() == nil && fn.Pkg() != nil && fn.Pkg().Path() == logPkg && len(call.Args) == 2:
		want, known := logFieldTypes[fn.Name()]
		if !known {
			return
		}
		c.check(pass, reg, call.Args[0], nil, want, semconv.InLog)
	}
}

func (c *checker) tagLiteral(pass *analysis.Pass, reg *semconv.Registry, lit *ast.CompositeLit) {
	tv, ok := pass.TypesInfo.Types[lit]
	if !ok || !isNamed(tv.Type, otPkg, "Tag") {
		return
	}
	var key, value ast.Expr
	for i, e := range lit.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			switch id, _ := kv.Key.(*ast.Ident); {
			case id == nil:
			case id.Name == "Key":
				key = kv.Value
			case id.Name == "Value":
				value = kv.Value
			}
			continue
		}
		if i == 0 {
			key = e
		} else if i == 1 {
			value = e
		}
	}
	if key != nil {
		c.check(pass, reg, key, value, 0, semconv.InTag)
	}
}

// check judges a key expression and, when given, its value expression (or
// the value type a log constructor implies).
func (c *checker) check(pass *analysis.Pass, reg *semconv.Registry, keyExpr, valueExpr ast.Expr, valueType semconv.Type, use semconv.Usage) {
	ktv, ok := pass.TypesInfo.Types[keyExpr]
	if !ok || ktv.Value == nil || ktv.Value.Kind() != constant.String {
		return
	}
	key := constant.StringVal(ktv.Value)
	def, ok := reg.Lookup(key)
	if !ok {
		c.unknown(pass, reg, keyExpr, key, use)
		return
	}
	if use&semconv.InTag != 0 {
		c.legacy(pass, keyExpr, key)
	}
	if valueType != 0 {
		if valueType != def.Type {
			pass.Reportf(keyExpr.Pos(), "%q is %s field; this constructor makes %s", key, article(def.Type), article(valueType))
		}
		return
	}
	if valueExpr == nil {
		return
	}
	vtv, ok := pass.TypesInfo.Types[valueExpr]
	if !ok || vtv.Type == nil {
		return
	}
	got, isBasic := basicType(vtv.Type)
	if !isBasic {
		return
	}
	if !compatible(def.Type, got) {
		pass.Reportf(valueExpr.Pos(), "%q is %s tag, not %s", key, article(def.Type), got)
		return
	}
	if vtv.Value != nil && !allowed(def, vtv.Value) {
		pass.Reportf(valueExpr.Pos(), "%s is not an allowed value of %q (%s)", vtv.Value.ExactString(), key, describeAllowed(def))
	}
}

func (c *checker) unknown(pass *analysis.Pass, reg *semconv.Registry, keyExpr ast.Expr, key string, use semconv.Usage) {
	what := "tag"
	if use == semconv.InLog {
		what = "log field"
	}
	d := analysis.Diagnostic{Pos: keyExpr.Pos(), End: keyExpr.End()}
	if s := reg.Suggest(key); s != "" {
		d.Message = fmt.Sprintf("unknown %s key %q (did you mean %q?)", what, key, s)
		if lit, ok := keyExpr.(*ast.BasicLit); ok && lit.Kind == token.STRING && !isTemplate(reg, s) {
			d.SuggestedFixes = []analysis.SuggestedFix{{
				Message:   "use " + strconv.Quote(s),
				TextEdits: []analysis.TextEdit{{Pos: lit.Pos(), End: lit.End(), NewText: []byte(strconv.Quote(s))}},
			}}
		}
	} else {
		d.Message = fmt.Sprintf("unknown %s key %q (not in the semantic-conventions registry)", what, key)
	}
	pass.Report(d)
}

// legacy reports a literal legacy key whose category the switch moves to
// the stable names only (stability.Table): the code bypasses the helpers
// and middleware that follow the switch, so its spans would still carry the
// old name. With /dup the legacy key is still emitted and not reported.
func (c *checker) legacy(pass *analysis.Pass, keyExpr ast.Expr, key string) {
	o := c.switchValue()
	if o.IsDefault() {
		return
	}
	var rows []*stability.Mapping
	for i := range stability.Table {
		r := &stability.Table[i]
		if r.Legacy == key && o.For(r.Category) == stability.Stable && (len(r.Stable) == 0 || r.Stable[0] != key) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	r := rows[0]
	d := analysis.Diagnostic{Pos: keyExpr.Pos(), End: keyExpr.End()}
	switch {
	case len(r.Stable) == 0:
		d.Message = fmt.Sprintf("%q is not emitted under %s=%s (no stable successor)", key, stability.EnvOptIn, r.Category)
	case len(rows) > 1 || r.Kind != stability.AnyKind || r.Transform != stability.Same || len(r.Stable) > 1:
		var alts []string
		for _, r := range rows {
			alts = append(alts, strings.Join(r.Stable, " + ")+" ("+r.Kind.String()+" spans)")
		}
		d.Message = fmt.Sprintf("%q is a legacy key; %s=%s emits %s", key, stability.EnvOptIn, r.Category, strings.Join(alts, ", "))
	default:
		d.Message = fmt.Sprintf("%q is a legacy key; %s=%s emits %q", key, stability.EnvOptIn, r.Category, r.Stable[0])
		if lit, ok := keyExpr.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			d.SuggestedFixes = []analysis.SuggestedFix{{
				Message:   "use " + strconv.Quote(r.Stable[0]),
				TextEdits: []analysis.TextEdit{{Pos: lit.Pos(), End: lit.End(), NewText: []byte(strconv.Quote(r.Stable[0]))}},
			}}
		}
	}
	pass.Report(d)
}

func isTemplate(reg *semconv.Registry, key string) bool {
	d, ok := reg.Lookup(key)
	return ok && d.Template
}

func isString(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

// basicType maps a value's static type to a registry type; false for
// interfaces and composite types, which are not checked.
func basicType(t types.Type) (semconv.Type, bool) {
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return 0, false
	}
	switch {
	case b.Info()&types.IsString != 0:
		return semconv.TypeString, true
	case b.Info()&types.IsBoolean != 0:
		return semconv.TypeBool, true
	case b.Info()&types.IsInteger != 0:
		return semconv.TypeInt, true
	case b.Info()&types.IsFloat != 0:
		return semconv.TypeFloat, true
	}
	return 0, false
}

// compatible reports whether a value of type got is right for a tag of type
// want: exact, or an integer for a float tag.
func compatible(want, got semconv.Type) bool {
	return want == got || (want == semconv.TypeFloat && got == semconv.TypeInt)
}

func allowed(d semconv.Definition, v constant.Value) bool {
	if v.Kind() == constant.String {
		s := constant.StringVal(v)
		if len(d.Enum) > 0 {
			for _, e := range d.Enum {
				if e == s {
					return true
				}
			}
			return false
		}
		return d.Pattern == nil || d.Pattern.MatchString(s)
	}
	if len(d.Enum) == 0 {
		return true
	}
	for _, e := range d.Enum {
		switch e := e.(type) {
		case int64:
			if constant.Compare(v, token.EQL, constant.MakeInt64(e)) {
				return true
			}
		case float64:
			if constant.Compare(constant.ToFloat(v), token.EQL, constant.MakeFloat64(e)) {
				return true
			}
		case bool:
			if v.Kind() == constant.Bool && constant.BoolVal(v) == e {
				return true
			}
		}
	}
	return false
}

func describeAllowed(d semconv.Definition) string {
	if len(d.Enum) > 0 {
		return fmt.Sprintf("allowed: %v", d.Enum)
	}
	return "pattern " + d.Pattern.String()
}

func article(t semconv.Type) string {
	if t == semconv.TypeInt {
		return "an int"
	}
	return "a " + t.String()
}
