package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/flowtrace/flowtrace/internal/safefile"
)

//go:embed files/*.tmpl
var templateFS embed.FS

// parsed holds every template, named by its file name ("main.go.tmpl").
var parsed = template.Must(template.New("").Option("missingkey=error").ParseFS(templateFS, "files/*.tmpl"))

// file is one generated file: the template it comes from, where it goes
// (slash-separated, relative to the service directory) and when it is
// generated.
type file struct {
	template string
	path     string
	when     func(*config) bool // nil: always
}

var files = []file{
	{template: "go.mod.tmpl", path: "go.mod"},
	{template: "go.sum.tmpl", path: "go.sum", when: func(c *config) bool { return c.goSum != "" }},
	{template: "go.work.tmpl", path: "go.work", when: func(c *config) bool { return c.workspace != "" }},
	{template: "main.go.tmpl", path: "main.go"},
	{template: "handler.go.tmpl", path: "handler.go"},
	{template: "handler_test.go.tmpl", path: "handler_test.go"},
	{template: "grpc.go.tmpl", path: "grpc.go", when: func(c *config) bool { return c.grpc }},
	{template: "kafka.go.tmpl", path: "kafka.go", when: func(c *config) bool { return c.kafka }},
	{template: "kubernetes.yaml.tmpl", path: "deploy/kubernetes.yaml"},
	{template: "Dockerfile.tmpl", path: "Dockerfile"},
	{template: "dockerignore.tmpl", path: ".dockerignore"},
	{template: "gitignore.tmpl", path: ".gitignore"},
	{template: "README.md.tmpl", path: "README.md"},
}

// Option configures Render and Generate.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	module    string
	grpc      bool
	kafka     bool
	version   string
	workspace string
	replace   string
	goSum     string // from the flowtrace directory; "": no go.sum written
}

// WithModule sets the module path of the generated go.mod. Default: the
// service name. Outside Kubernetes, flowtrace names the service after the
// last element of the module path (a /vN suffix skipped), so keep that
// element equal to the service name.
func WithModule(path string) Option {
	return optionFunc(func(c *config) { c.module = path })
}

// WithGRPC adds a gRPC server traced with tracegrpc, serving the standard
// gRPC health service on GRPC_PORT (default 9090).
func WithGRPC() Option { return optionFunc(func(c *config) { c.grpc = true }) }

// WithKafka adds a Kafka consumer traced with tracekafka, reading
// KAFKA_TOPIC (default: the service name) from the brokers in KAFKA_BROKERS.
func WithKafka() Option { return optionFunc(func(c *config) { c.kafka = true }) }

// WithFlowtraceVersion sets the version at which go.mod requires flowtrace
// (for instance "v0.3.0" once it is published). Default: PlaceholderVersion.
func WithFlowtraceVersion(v string) Option {
	return optionFunc(func(c *config) { c.version = v })
}

// WithWorkspace writes a go.work beside go.mod that uses the flowtrace
// checkout in dir (made absolute) and maps the required flowtrace version
// to it, so that the service builds as generated while flowtrace is
// unpublished. The generated .gitignore keeps go.work out of version
// control. Generate checks that dir holds flowtrace's go.mod.
func WithWorkspace(dir string) Option {
	return optionFunc(func(c *config) { c.workspace = dir })
}

// WithReplace writes a replace directive into the generated go.mod that
// points flowtrace at the checkout in dir (made absolute), and a go.sum
// with the checksums of flowtrace's dependencies, taken from that
// checkout's go.sum, so that the service builds on its own
// (GOWORK=off go build) without network access to a proxy that has
// flowtrace. Use it where a workspace does not fit, for instance in a build
// container; delete the directive once flowtrace is published. Generate
// checks that dir holds flowtrace's go.mod and go.sum.
func WithReplace(dir string) Option {
	return optionFunc(func(c *config) { c.replace = dir })
}

// File is a rendered file.
type File struct {
	Path string // slash-separated, relative to the service directory
	Data []byte
}

// ErrNotEmpty is returned by Generate for a directory that already holds
// files.
var ErrNotEmpty = errors.New("directory exists and is not empty")

// Render returns the files of a new service called name, Go files
// gofmt'd, in a fixed order. It fails only on invalid input: name must be a
// DNS-1035 label (the Kubernetes Deployment and Service are called name),
// the module path a valid Go module path, and a WithWorkspace or
// WithReplace directory a flowtrace checkout, whose go.sum it reads.
func Render(name string, opts ...Option) ([]File, error) {
	return render(name, newConfig(opts))
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

func render(name string, c *config) ([]File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if c.module == "" {
		c.module = name
	}
	if err := checkModulePath(c.module); err != nil {
		return nil, err
	}
	if c.version == "" {
		c.version = PlaceholderVersion
	}
	if !semverRE.MatchString(c.version) {
		return nil, fmt.Errorf("invalid flowtrace version %q: want a semantic version such as v1.2.3", c.version)
	}
	if c.workspace != "" {
		abs, err := filepath.Abs(c.workspace)
		if err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		if strings.ContainsAny(abs, "\n\r") {
			return nil, fmt.Errorf("workspace %q: the path cannot be written in go.work", abs)
		}
		c.workspace = abs
	}
	if c.replace != "" {
		abs, err := filepath.Abs(c.replace)
		if err != nil {
			return nil, fmt.Errorf("replace: %w", err)
		}
		if strings.ContainsAny(abs, "\n\r") {
			return nil, fmt.Errorf("replace %q: the path cannot be written in go.mod", abs)
		}
		c.replace = abs
	}
	if err := checkFlowtraceDir("workspace", c.workspace); err != nil {
		return nil, err
	}
	if err := checkFlowtraceDir("replace", c.replace); err != nil {
		return nil, err
	}
	if c.replace != "" || c.workspace != "" {
		// The dependencies of the service are flowtrace's, at flowtrace's
		// versions: flowtrace's go.sum has every checksum the service needs
		// (and some it does not, which go mod tidy drops).
		from := c.replace
		if from == "" {
			from = c.workspace
		}
		sum, err := readGoSum(from)
		if err != nil {
			return nil, err
		}
		c.goSum = sum
	}
	d := data{
		Name:             name,
		Module:           c.module,
		GRPC:             c.grpc,
		Kafka:            c.kafka,
		GoVersion:        goVersion,
		GoMinor:          goMinor(goVersion),
		FlowtraceVersion: c.version,
		Placeholder:      PlaceholderVersion,
		Versions:         deps,
		Workspace:        quoteIfNeeded(c.workspace),
		Replace:          quoteIfNeeded(c.replace),
		GoSum:            c.goSum,
	}
	out := make([]File, 0, len(files))
	for _, f := range files {
		if f.when != nil && !f.when(c) {
			continue
		}
		var buf bytes.Buffer
		if err := parsed.ExecuteTemplate(&buf, f.template, d); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f.template, err)
		}
		b := buf.Bytes()
		if strings.HasSuffix(f.path, ".go") {
			formatted, err := format.Source(b)
			if err != nil {
				return nil, fmt.Errorf("templates: %s renders invalid Go: %w", f.template, err)
			}
			b = formatted
		}
		out = append(out, File{Path: f.path, Data: b})
	}
	return out, nil
}

// Generate writes a new service called name into dir, creating dir if
// needed. It refuses a dir that exists and is not empty (ErrNotEmpty) and
// writes nothing when the input is invalid (see Render). When a write fails,
// the files already written are removed again.
func Generate(dir, name string, opts ...Option) (err error) {
	c := newConfig(opts)
	rendered, err := render(name, c)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				_ = os.RemoveAll(dir) // it did not exist: nothing of the user's is lost
			}
		}()
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	}
	var written []string
	defer func() {
		if err != nil {
			for i := len(written) - 1; i >= 0; i-- {
				_ = os.Remove(written[i])
			}
		}
	}()
	for _, f := range rendered {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if sub := path.Dir(f.Path); sub != "." {
			d := filepath.Join(dir, filepath.FromSlash(sub))
			if _, statErr := os.Stat(d); errors.Is(statErr, fs.ErrNotExist) {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
				written = append(written, d)
			}
		}
		// O_EXCL: never replace a file that appeared since the check above.
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		written = append(written, p)
		_, werr := fh.Write(f.Data)
		if err := errors.Join(werr, fh.Close()); err != nil {
			return err
		}
	}
	return nil
}

// data is what the templates see.
type data struct {
	Name             string
	Module           string
	GRPC             bool
	Kafka            bool
	GoVersion        string // go directive
	GoMinor          string // "1.26": the golang image tag
	FlowtraceVersion string
	Placeholder      string
	Versions         versions
	Workspace        string // absolute flowtrace directory, quoted for go.work if needed
	Replace          string // absolute flowtrace directory, quoted for go.mod if needed
	GoSum            string // go.sum contents
}

// quoteIfNeeded quotes a go.work path that the go.work syntax does not
// allow bare (spaces, quotes, brackets, commas, comment starts).
func quoteIfNeeded(p string) string {
	if strings.ContainsAny(p, " \t\"'`()[]{},") || strings.Contains(p, "//") || strings.Contains(p, "/*") {
		return strconv.Quote(p)
	}
	return p
}

func goMinor(v string) string {
	if i := strings.Index(v, "."); i >= 0 {
		if j := strings.Index(v[i+1:], "."); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}

// checkFlowtraceDir makes sure a WithWorkspace or WithReplace directory is
// a flowtrace checkout.
func checkFlowtraceDir(what, dir string) error {
	if dir == "" {
		return nil
	}
	b, err := safefile.Read(filepath.Join(dir, "go.mod"), maxModFile, readTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !bytes.HasPrefix(b, []byte("module github.com/flowtrace/flowtrace\n")) {
		return fmt.Errorf("%s: %s does not hold flowtrace's go.mod (module github.com/flowtrace/flowtrace)", what, dir)
	}
	return nil
}

// maxModFile bounds what is read of flowtrace's go.mod and go.sum: both are
// a few KiB; anything far larger is not a flowtrace checkout.
const maxModFile = 1 << 20

// readTimeout bounds each read (a file on a hung network mount).
const readTimeout = 5 * time.Second

// readGoSum returns the go.sum of the flowtrace checkout in dir, checked to
// be go.sum lines (module, version, h1: hash) so that nothing else is copied
// into the new service.
func readGoSum(dir string) (string, error) {
	b, err := safefile.Read(filepath.Join(dir, "go.sum"), maxModFile, readTimeout)
	if err != nil {
		return "", fmt.Errorf("flowtrace's go.sum: %w", err)
	}
	if len(b) == 0 {
		return "", nil
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if f := strings.Fields(line); len(f) != 3 || !strings.HasPrefix(f[2], "h1:") || strings.ContainsAny(line, "\r\t") {
			return "", fmt.Errorf("flowtrace's go.sum: line %d is not a checksum line", i+1)
		}
	}
	return string(b), nil
}

var (
	// nameRE is a DNS-1035 label, as Kubernetes requires of Service names.
	nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	// semverRE is a semantic version with the leading v the go command wants.
	semverRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	// elemRE is one element of a module path.
	elemRE = regexp.MustCompile(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$`)
)

func checkName(name string) error {
	if len(name) > 63 || !nameRE.MatchString(name) {
		return fmt.Errorf("invalid service name %q: want at most 63 lower-case letters, digits and '-', starting with a letter and not ending with '-' (a Kubernetes DNS-1035 label, e.g. checkout or order-history)", name)
	}
	return nil
}

// checkModulePath applies the go command's rules for module paths, a little
// more strictly (no element may start with a dot or end with one).
func checkModulePath(p string) error {
	bad := func(why string) error { return fmt.Errorf("invalid module path %q: %s", p, why) }
	if len(p) > 255 {
		return bad("longer than 255 bytes")
	}
	for _, elem := range strings.Split(p, "/") {
		switch {
		case elem == "":
			return bad("empty path element (leading, trailing or double slash)")
		case !elemRE.MatchString(elem):
			return bad(fmt.Sprintf("element %q: want ASCII letters, digits and . _ ~ -, not starting with a dot", elem))
		case strings.HasSuffix(elem, "."):
			return bad(fmt.Sprintf("element %q ends with a dot", elem))
		}
	}
	if first, _, _ := strings.Cut(p, "/"); strings.HasPrefix(first, "-") {
		return bad("leading element starts with '-'")
	}
	return nil
}
