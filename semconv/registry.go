package semconv

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/flowtrace/flowtrace/internal/safefile"
	"github.com/flowtrace/flowtrace/tracer"
)

//go:embed registry.yaml
var defaultRegistry []byte

// DefaultName is the name the embedded registry reports in errors and
// Registry.Name.
const DefaultName = "semconv/registry.yaml"

// Type is the value type of a tag.
type Type uint8

// Tag value types.
const (
	TypeString Type = iota + 1
	TypeInt
	TypeFloat
	TypeBool
)

var typeNames = map[string]Type{"string": TypeString, "int": TypeInt, "float": TypeFloat, "bool": TypeBool}

// String returns the registry's name of the type.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeBool:
		return "bool"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Stability says how settled a convention is.
type Stability uint8

// Stability levels. Setting a deprecated tag is a violation that keeps the
// tag.
const (
	Experimental Stability = iota
	Stable
	Deprecated
)

// String returns the registry's name of the stability level.
func (s Stability) String() string {
	switch s {
	case Stable:
		return "stable"
	case Deprecated:
		return "deprecated"
	}
	return "experimental"
}

// Usage says where a key may appear: as a span tag, as a log (event)
// field, or both.
type Usage uint8

// Usages; they combine as flags.
const (
	InTag Usage = 1 << iota
	InLog
)

// Definition is one entry of a registry. Registries hand out copies; the
// slices they hold must not be modified.
type Definition struct {
	// Key is the tag key. For a template (Template true) it is the prefix,
	// ending in ".", that every matching key starts with.
	Key      string
	Template bool
	Type     Type
	// Enum lists the allowed values, typed as string, int64, float64 or
	// bool after Type; empty means any value of the type.
	Enum []any
	// Pattern, when set, is what a string value must match.
	Pattern     *regexp.Regexp
	Description string
	Stability   Stability
	ReplacedBy  string
	In          Usage
	// RequiredFor lists the span kinds that must carry the tag, and
	// RequirementGroup the group it belongs to (see Registry).
	RequiredFor      []tracer.SpanKind
	RequirementGroup string
	// GoName is the identifier of the generated helper.
	GoName string
	// File and Line locate the definition.
	File string
	Line int

	enumStr   []string
	enumInt   []int64
	enumFloat []float64
	enumBool  []bool
}

// Registry is a validated set of tag definitions. It is immutable and safe
// for concurrent use.
//
// Requirements: a span of kind K must carry every tag whose required_for
// lists K and that has no requirement_group; and, when some tags required
// for K name a requirement_group, all the tags of at least one such group
// (for example a server span must be an HTTP server span — http.method and
// http.status_code — or an RPC server span — rpc.system).
type Registry struct {
	name      string
	defs      []*Definition // sorted by key
	byKey     map[string]*Definition
	templates []*Definition
	required  [6]requirement // by tracer.SpanKind
}

type requirement struct {
	always []string
	groups []group
}

type group struct {
	name string
	keys []string
}

// Name returns the name the registry was loaded under.
func (r *Registry) Name() string { return r.name }

// Lookup returns the definition of key: an exact key, or else a template
// whose prefix key starts with.
func (r *Registry) Lookup(key string) (Definition, bool) {
	if d := r.lookup(key); d != nil {
		return *d, true
	}
	return Definition{}, false
}

func (r *Registry) lookup(key string) *Definition {
	if d, ok := r.byKey[key]; ok {
		return d
	}
	for _, d := range r.templates {
		if len(key) > len(d.Key) && strings.HasPrefix(key, d.Key) {
			return d
		}
	}
	return nil
}

// ValidString reports whether v is an allowed value of the string tag key:
// in its enum, or matching its pattern. It is false for keys that are not
// in r and for tags of other types.
func (r *Registry) ValidString(key, v string) bool {
	d := r.lookup(key)
	return d != nil && d.Type == TypeString && d.validString(v)
}

// Definitions returns every definition, sorted by key.
func (r *Registry) Definitions() []Definition {
	out := make([]Definition, len(r.defs))
	for i, d := range r.defs {
		out[i] = *d
	}
	return out
}

// Keys returns every key, sorted (templates end in ".*").
func (r *Registry) Keys() []string {
	out := make([]string, len(r.defs))
	for i, d := range r.defs {
		out[i] = d.DisplayKey()
	}
	return out
}

// DisplayKey returns the key as written in the registry: templates end in
// ".*".
func (d *Definition) DisplayKey() string {
	if d.Template {
		return d.Key + "*"
	}
	return d.Key
}

// Requirement describes what a span kind must carry.
type Requirement struct {
	// Always are keys every span of the kind must carry.
	Always []string
	// Groups, when not empty, are alternatives: a span must carry every key
	// of at least one of them.
	Groups map[string][]string
}

// Required returns the requirement for spans of kind k.
func (r *Registry) Required(k tracer.SpanKind) Requirement {
	var out Requirement
	if k < 0 || int(k) >= len(r.required) {
		return out
	}
	req := r.required[k]
	out.Always = slices.Clone(req.always)
	if len(req.groups) > 0 {
		out.Groups = make(map[string][]string, len(req.groups))
		for _, g := range req.groups {
			out.Groups[g.name] = slices.Clone(g.keys)
		}
	}
	return out
}

// missing returns how many required tags a span of kind k with attrs
// lacks: the missing ungrouped tags, plus the fewest missing of any group
// when no group is complete.
func (r *Registry) missing(k tracer.SpanKind, attrs []tracer.Attribute) int {
	if k < 0 || int(k) >= len(r.required) {
		return 0
	}
	req := &r.required[k]
	n := 0
	for _, key := range req.always {
		if !hasAttr(attrs, key) {
			n++
		}
	}
	if len(req.groups) == 0 {
		return n
	}
	best := -1
	for _, g := range req.groups {
		m := 0
		for _, key := range g.keys {
			if !hasAttr(attrs, key) {
				m++
			}
		}
		if best < 0 || m < best {
			best = m
		}
		if m == 0 {
			break
		}
	}
	return n + best
}

func hasAttr(attrs []tracer.Attribute, key string) bool {
	for i := range attrs {
		if attrs[i].Key == key {
			return true
		}
	}
	return false
}

// LoadError is a problem found in a registry file, located by file and line.
type LoadError struct {
	File string
	Line int
	Msg  string
}

func (e *LoadError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

var defaultReg *Registry

func init() { defaultReg = mustDefault() }

func mustDefault() *Registry {
	r, err := Load(strings.NewReader(string(defaultRegistry)), DefaultName)
	if err != nil {
		panic("semconv: embedded registry: " + err.Error())
	}
	return r
}

// Default returns flowtrace's registry, embedded from registry.yaml.
func Default() *Registry { return defaultReg }

// maxRegistryFileSize bounds the registry file LoadFile reads (the built-in
// registry is about 12 KB).
const maxRegistryFileSize = 4 << 20

// LoadFile loads a registry file; see Load. Only a regular file of at most
// 4 MiB is read, within a two-second deadline: a FIFO,
// device (/dev/zero), directory or socket is an error, never a hang or an
// unbounded read.
func LoadFile(path string) (*Registry, error) {
	b, err := safefile.Read(path, maxRegistryFileSize, safefile.DefaultTimeout)
	if err != nil {
		return nil, err
	}
	return Load(bytes.NewReader(b), path)
}

// FromEnv returns the registry named by FLOWTRACE_SEMCONV_REGISTRY (a file
// path), or Default when the variable is empty.
func FromEnv() (*Registry, error) {
	path := strings.TrimSpace(os.Getenv(EnvRegistry))
	if path == "" {
		return Default(), nil
	}
	return LoadFile(path)
}

// Load reads and validates a registry in YAML (the format of
// registry.yaml); name labels errors, which are *LoadError values (joined with
// errors.Join when there are several). A file whose top level says
// "extends: default" adds to and overrides (by key) the default registry;
// otherwise it replaces it.
func Load(r io.Reader, name string) (*Registry, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &LoadError{File: name, Line: yamlErrLine(err), Msg: err.Error()}
	}
	p := &yamlParser{file: name}
	defs, extends := p.document(&doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	if extends {
		return merge(name, Default().defs, defs)
	}
	return build(name, defs)
}

// Extend returns a registry with the definitions of base and extra; a key
// defined in both takes extra's definition.
func Extend(base, extra *Registry) (*Registry, error) {
	return merge(extra.name, base.defs, extra.defs)
}

func merge(name string, base, extra []*Definition) (*Registry, error) {
	byKey := make(map[string]*Definition, len(base)+len(extra))
	for _, d := range base {
		byKey[d.DisplayKey()] = d
	}
	for _, d := range extra {
		byKey[d.DisplayKey()] = d
	}
	defs := make([]*Definition, 0, len(byKey))
	for _, d := range byKey {
		defs = append(defs, d)
	}
	return build(name, defs)
}

var lineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	return 1
}

// build checks what spans definitions (unique Go names, replaced_by
// targets) and indexes them.
func build(name string, defs []*Definition) (*Registry, error) {
	slices.SortFunc(defs, func(a, b *Definition) int { return strings.Compare(a.DisplayKey(), b.DisplayKey()) })
	r := &Registry{name: name, defs: defs, byKey: make(map[string]*Definition, len(defs))}
	var errs []error
	goNames := map[string]*Definition{}
	claim := func(ident string, d *Definition) {
		if reservedNames[ident] {
			errs = append(errs, &LoadError{File: d.File, Line: d.Line, Msg: fmt.Sprintf("Go name %s of %q is taken by package semconv; set go_name", ident, d.DisplayKey())})
			return
		}
		if prev, ok := goNames[ident]; ok && prev != d {
			errs = append(errs, &LoadError{File: d.File, Line: d.Line, Msg: fmt.Sprintf("Go name %s of %q is also used by %q (%s:%d); set go_name", ident, d.DisplayKey(), prev.DisplayKey(), prev.File, prev.Line)})
			return
		}
		goNames[ident] = d
	}
	for _, d := range defs {
		claim(d.GoName, d)
		for _, c := range d.EnumConstants() {
			claim(c.Name, d)
		}
		if d.Template {
			r.templates = append(r.templates, d)
		} else {
			r.byKey[d.Key] = d
		}
	}
	for _, d := range defs {
		if d.ReplacedBy != "" && r.lookup(d.ReplacedBy) == nil {
			errs = append(errs, &LoadError{File: d.File, Line: d.Line, Msg: fmt.Sprintf("%q is replaced by unknown key %q", d.Key, d.ReplacedBy)})
		}
		for _, k := range d.RequiredFor {
			req := &r.required[k]
			if d.RequirementGroup == "" {
				req.always = append(req.always, d.Key)
				continue
			}
			i := slices.IndexFunc(req.groups, func(g group) bool { return g.name == d.RequirementGroup })
			if i < 0 {
				req.groups = append(req.groups, group{name: d.RequirementGroup})
				i = len(req.groups) - 1
			}
			req.groups[i].keys = append(req.groups[i].keys, d.Key)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// reservedNames are the exported identifiers of package semconv that are
// not generated; TestReservedNames keeps the list complete.
var reservedNames = map[string]bool{
	"BoolField": true, "BoolTag": true, "Coerced": true, "CriticalOperationKey": true, "Default": true,
	"DefaultName": true, "Definition": true, "DeprecatedKey": true, "Deprecated": true, "EnumConstant": true,
	"Enforcer": true, "EnvMode": true, "EnvRegistry": true, "Experimental": true, "Extend": true,
	"FloatField": true, "FloatTag": true, "FlowIDKey": true, "FromBaggage": true, "FromEnv": true,
	"FromSpanContext": true, "ValidBaggageTag": true, "ValidCriticalOperation": true, "ValidTrafficSource": true,
	"InLog": true, "InTag": true, "IntField": true, "IntTag": true, "InvalidValue": true, "KindName": true,
	"Levenshtein": true, "Load": true, "LoadError": true, "LoadFile": true, "Misplaced": true,
	"MissingRequired": true, "Mode": true, "ModeFromEnv": true, "NewEnforcer": true, "NewPolicy": true,
	"Off": true, "Option": true, "OtherKeys": true, "ParseMode": true, "PolicyFromEnv": true,
	"Registry": true, "Requirement": true, "Routing": true, "Stability": true, "Stable": true,
	"Stats": true, "Strict": true, "StringField": true, "StringTag": true, "StringTagTemplate": true,
	"TrafficSourceKey": true, "Type": true, "TypeBool": true, "TypeFloat": true, "TypeInt": true,
	"TypeString": true, "UnknownKey": true, "Usage": true, "Violation": true, "Warn": true,
	"WithLogInterval": true, "WithLogger": true, "WithMaxUnknownKeys": true, "WrongType": true,
}

// EnumConstant is a generated constant for an allowed string value.
type EnumConstant struct {
	Name, Value string
}

// EnumConstants returns the constants generated for a string enumeration
// (GoName followed by the value in camel case), or none.
func (d *Definition) EnumConstants() []EnumConstant {
	if d.Type != TypeString {
		return nil
	}
	out := make([]EnumConstant, 0, len(d.enumStr))
	for _, v := range d.enumStr {
		out = append(out, EnumConstant{Name: d.GoName + goIdent(v), Value: v})
	}
	return out
}

var initialisms = map[string]string{
	"http": "HTTP", "url": "URL", "id": "ID", "rpc": "RPC", "grpc": "GRPC", "db": "DB",
	"ip": "IP", "https": "HTTPS", "ipv4": "IPv4", "ipv6": "IPv6", "uri": "URI", "tls": "TLS", "dns": "DNS",
	"os": "OS", "cpu": "CPU", "api": "API", "sql": "SQL", "ttl": "TTL",
}

// goIdent turns a key or value into an exported Go identifier part:
// words split at ".", "_", "-" and spaces are capitalised, with common
// initialisms upper-cased.
func goIdent(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if up, ok := initialisms[strings.ToLower(w)]; ok && strings.ToLower(w) == w {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		if strings.ToUpper(w) == w && len(r) > 1 {
			// All-caps words (GET, SENT) become Get, Sent.
			r = []rune(strings.ToLower(w))
		}
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

var (
	keyRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*([.-][a-z0-9_]+)*(\.\*)?$`)
	goNameRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	groupRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

var kindNames = map[string]tracer.SpanKind{
	"server": tracer.KindServer, "client": tracer.KindClient, "producer": tracer.KindProducer,
	"consumer": tracer.KindConsumer, "internal": tracer.KindInternal,
}

// KindName returns the registry's name of a span kind.
func KindName(k tracer.SpanKind) string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return "unspecified"
}

type yamlParser struct {
	file string
	errs []error
}

func (p *yamlParser) errf(n *yaml.Node, format string, args ...any) {
	line := 1
	if n != nil && n.Line > 0 {
		line = n.Line
	}
	p.errs = append(p.errs, &LoadError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *yamlParser) document(doc *yaml.Node) (defs []*Definition, extends bool) {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errf(doc, "empty registry")
		return nil, false
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errf(root, "registry must be a mapping with a tags list")
		return nil, false
	}
	var tags *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				p.errf(v, "unsupported version %q (want 1)", v.Value)
			}
		case "extends":
			if v.Kind != yaml.ScalarNode || v.Value != "default" {
				p.errf(v, `extends must be "default"`)
			}
			extends = true
		case "tags":
			tags = v
		default:
			p.errf(k, "unknown field %q", k.Value)
		}
	}
	if tags == nil {
		p.errf(root, "no tags list")
		return nil, extends
	}
	if tags.Kind != yaml.SequenceNode {
		p.errf(tags, "tags must be a list")
		return nil, extends
	}
	seen := map[string]*Definition{}
	for _, n := range tags.Content {
		d := p.definition(n)
		if d == nil {
			continue
		}
		if prev, ok := seen[d.DisplayKey()]; ok {
			p.errf(n, "duplicate key %q (first defined at line %d)", d.DisplayKey(), prev.Line)
			continue
		}
		seen[d.DisplayKey()] = d
		defs = append(defs, d)
	}
	return defs, extends
}

func (p *yamlParser) scalar(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a scalar", field)
		return "", false
	}
	return n.Value, true
}

func (p *yamlParser) list(n *yaml.Node, field string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a list", field)
		return nil
	}
	return n.Content
}

func (p *yamlParser) definition(n *yaml.Node) *Definition {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "a tag must be a mapping")
		return nil
	}
	nerr := len(p.errs)
	d := &Definition{File: p.file, Line: n.Line, In: InTag}
	var enum, pattern, required, key, group *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "key":
			key = v
		case "type":
			if s, ok := p.scalar(v, "type"); ok {
				if d.Type = typeNames[s]; d.Type == 0 {
					p.errf(v, "unknown type %q (want string, int, float or bool)", s)
				}
			}
		case "enum":
			enum = v
		case "pattern":
			pattern = v
		case "description":
			d.Description, _ = p.scalar(v, "description")
		case "stability":
			if s, ok := p.scalar(v, "stability"); ok {
				switch s {
				case "stable":
					d.Stability = Stable
				case "experimental":
					d.Stability = Experimental
				case "deprecated":
					d.Stability = Deprecated
				default:
					p.errf(v, "unknown stability %q (want stable, experimental or deprecated)", s)
				}
			}
		case "replaced_by":
			d.ReplacedBy, _ = p.scalar(v, "replaced_by")
		case "in":
			d.In = 0
			for _, e := range p.list(v, "in") {
				switch e.Value {
				case "tag":
					d.In |= InTag
				case "log":
					d.In |= InLog
				default:
					p.errf(e, "unknown usage %q (want tag or log)", e.Value)
				}
			}
		case "required_for":
			required = v
		case "requirement_group":
			group = v
		case "go_name":
			if s, ok := p.scalar(v, "go_name"); ok {
				if !goNameRE.MatchString(s) {
					p.errf(v, "go_name %q is not an exported Go identifier", s)
				}
				d.GoName = s
			}
		default:
			p.errf(k, "unknown field %q", k.Value)
		}
	}
	if key == nil {
		p.errf(n, "tag without key")
		return nil
	}
	if s, ok := p.scalar(key, "key"); ok {
		if !keyRE.MatchString(s) {
			p.errf(key, "invalid key %q (lower-case words separated by '.', '_' or '-'; a template ends in \".*\")", s)
		}
		d.Key = s
		if strings.HasSuffix(s, ".*") {
			d.Template, d.Key = true, strings.TrimSuffix(s, "*")
		}
	}
	if d.Type == 0 {
		if len(p.errs) == nerr {
			p.errf(n, "tag %q has no type", d.Key)
		}
		return nil
	}
	if d.In == 0 {
		p.errf(n, "tag %q: in is empty", d.Key)
	}
	if d.Template && d.Type != TypeString {
		p.errf(key, "template %q must be of type string", d.DisplayKey())
	}
	if d.ReplacedBy != "" && d.Stability != Deprecated {
		p.errf(n, "tag %q has replaced_by but is not deprecated", d.Key)
	}
	if enum != nil && pattern != nil {
		p.errf(pattern, "tag %q has both enum and pattern", d.Key)
	}
	if pattern != nil {
		if s, ok := p.scalar(pattern, "pattern"); ok {
			if d.Type != TypeString {
				p.errf(pattern, "pattern on %s tag %q (patterns are for strings)", d.Type, d.Key)
			} else if re, err := regexp.Compile(s); err != nil {
				p.errf(pattern, "bad pattern: %v", err)
			} else {
				d.Pattern = re
			}
		}
	}
	if enum != nil {
		p.enum(d, enum)
	}
	if required != nil {
		for _, e := range p.list(required, "required_for") {
			k, ok := kindNames[e.Value]
			if !ok {
				p.errf(e, "unknown span kind %q (want server, client, producer, consumer or internal)", e.Value)
				continue
			}
			if slices.Contains(d.RequiredFor, k) {
				p.errf(e, "span kind %q listed twice", e.Value)
				continue
			}
			d.RequiredFor = append(d.RequiredFor, k)
		}
		if d.Template {
			p.errf(required, "template %q cannot be required", d.DisplayKey())
		}
		if d.In&InTag == 0 {
			p.errf(required, "log field %q cannot be a required tag", d.Key)
		}
	}
	if group != nil {
		if s, ok := p.scalar(group, "requirement_group"); ok {
			if !groupRE.MatchString(s) {
				p.errf(group, "invalid requirement_group %q", s)
			}
			if required == nil {
				p.errf(group, "requirement_group without required_for")
			}
			d.RequirementGroup = s
		}
	}
	if d.GoName == "" {
		d.GoName = goIdent(d.Key)
		if !goNameRE.MatchString(d.GoName) {
			p.errf(key, "cannot derive a Go name from %q; set go_name", d.Key)
		}
	}
	for _, c := range d.EnumConstants() {
		if !goNameRE.MatchString(c.Name) {
			p.errf(enum, "enum value %q gives no Go identifier", c.Value)
		}
	}
	if len(p.errs) > nerr {
		return nil
	}
	return d
}

func (p *yamlParser) enum(d *Definition, n *yaml.Node) {
	vals := p.list(n, "enum")
	if n.Kind == yaml.SequenceNode && len(vals) == 0 {
		p.errf(n, "empty enum")
	}
	for _, v := range vals {
		if v.Kind != yaml.ScalarNode {
			p.errf(v, "enum values must be scalars")
			continue
		}
		var val any
		switch d.Type {
		case TypeString:
			if v.Tag != "!!str" {
				p.errf(v, "enum value %s of string tag %q is a %s; quote it", v.Value, d.Key, strings.TrimPrefix(v.Tag, "!!"))
				continue
			}
			d.enumStr = append(d.enumStr, v.Value)
			val = v.Value
		case TypeInt:
			var i int64
			if v.Tag != "!!int" || v.Decode(&i) != nil {
				p.errf(v, "enum value %q of int tag %q is not an integer", v.Value, d.Key)
				continue
			}
			d.enumInt = append(d.enumInt, i)
			val = i
		case TypeFloat:
			var f float64
			if (v.Tag != "!!int" && v.Tag != "!!float") || v.Decode(&f) != nil {
				p.errf(v, "enum value %q of float tag %q is not a number", v.Value, d.Key)
				continue
			}
			d.enumFloat = append(d.enumFloat, f)
			val = f
		case TypeBool:
			var b bool
			if v.Tag != "!!bool" || v.Decode(&b) != nil {
				p.errf(v, "enum value %q of bool tag %q is not a bool", v.Value, d.Key)
				continue
			}
			d.enumBool = append(d.enumBool, b)
			val = b
		}
		if slices.Contains(d.Enum, val) {
			p.errf(v, "duplicate enum value %q", v.Value)
			continue
		}
		d.Enum = append(d.Enum, val)
	}
}
