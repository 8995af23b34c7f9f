package templates

import (
	"bytes"
	"errors"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func renderMap(t *testing.T, name string, opts ...Option) map[string]string {
	t.Helper()
	fs, err := Render(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f.Path] = string(f.Data)
	}
	return m
}

func TestRenderVariants(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        []Option
		grpc, kafka bool
	}{
		{name: "plain"},
		{name: "grpc", opts: []Option{WithGRPC()}, grpc: true},
		{name: "kafka", opts: []Option{WithKafka()}, kafka: true},
		{name: "both", opts: []Option{WithGRPC(), WithKafka()}, grpc: true, kafka: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := renderMap(t, "checkout", append(tc.opts, WithModule("example.com/team/checkout"))...)
			want := []string{".dockerignore", ".gitignore", "Dockerfile", "README.md", "deploy/kubernetes.yaml", "go.mod", "handler.go", "handler_test.go", "main.go"}
			if tc.grpc {
				want = append(want, "grpc.go")
			}
			if tc.kafka {
				want = append(want, "kafka.go")
			}
			slices.Sort(want)
			var got []string
			for p := range fs {
				got = append(got, p)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("files = %v, want %v", got, want)
			}

			fset := token.NewFileSet()
			for p, src := range fs {
				if !strings.HasSuffix(p, ".go") {
					continue
				}
				if _, err := parser.ParseFile(fset, p, src, parser.ParseComments); err != nil {
					t.Errorf("%s: %v", p, err)
				}
				if formatted, _ := format.Source([]byte(src)); string(formatted) != src {
					t.Errorf("%s is not gofmt'd", p)
				}
			}
			for p, src := range fs {
				if strings.Contains(src, "<no value>") || strings.Contains(src, "{{") {
					t.Errorf("%s has template leftovers", p)
				}
			}

			gomod := fs["go.mod"]
			for _, line := range []string{"module example.com/team/checkout\n", "go " + goVersion + "\n", "github.com/flowtrace/flowtrace " + PlaceholderVersion + "\n"} {
				if !strings.Contains(gomod, line) {
					t.Errorf("go.mod lacks %q:\n%s", line, gomod)
				}
			}
			if got := strings.Contains(gomod, "google.golang.org/grpc "+deps.GRPC); got != tc.grpc {
				t.Errorf("go.mod requires grpc: %v, want %v", got, tc.grpc)
			}
			if got := strings.Contains(gomod, "github.com/segmentio/kafka-go "+deps.KafkaGo); got != tc.kafka {
				t.Errorf("go.mod requires kafka-go: %v, want %v", got, tc.kafka)
			}
			main := fs["main.go"]
			for _, s := range []string{"flowtrace.Start(ctx)", "tracing.Shutdown(", "syscall.SIGTERM", "srv.Shutdown("} {
				if !strings.Contains(main, s) {
					t.Errorf("main.go lacks %q", s)
				}
			}
			if got := strings.Contains(main, "gracefulStop("); got != tc.grpc {
				t.Errorf("main.go stops a gRPC server: %v, want %v", got, tc.grpc)
			}
			if got := strings.Contains(main, "consume("); got != tc.kafka {
				t.Errorf("main.go starts a consumer: %v, want %v", got, tc.kafka)
			}
			checkManifest(t, fs["deploy/kubernetes.yaml"], "checkout", tc.grpc, tc.kafka)
		})
	}
}

// checkManifest checks the Deployment and Service, above all the
// downward-API environment flowtrace configures itself from.
func checkManifest(t *testing.T, manifest, name string, grpc, kafka bool) {
	t.Helper()
	type envVar struct {
		Name      string
		Value     string
		ValueFrom struct {
			FieldRef struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	}
	type port struct {
		Name          string
		ContainerPort int `yaml:"containerPort"`
	}
	var deploy struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			}
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     struct {
					Containers []struct {
						Name         string
						Ports        []port
						Env          []envVar
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name        string
						DownwardAPI struct {
							Items []struct {
								Path     string
								FieldRef struct {
									FieldPath string `yaml:"fieldPath"`
								} `yaml:"fieldRef"`
							}
						} `yaml:"downwardAPI"`
					}
				}
			}
		}
	}
	var svc struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     struct {
			Selector map[string]string
			Ports    []struct{ Name string }
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	if err := dec.Decode(&deploy); err != nil {
		t.Fatalf("Deployment: %v", err)
	}
	if err := dec.Decode(&svc); err != nil {
		t.Fatalf("Service: %v", err)
	}
	if deploy.Kind != "Deployment" || deploy.Metadata.Name != name || svc.Kind != "Service" || svc.Metadata.Name != name {
		t.Fatalf("manifest has %s %q and %s %q", deploy.Kind, deploy.Metadata.Name, svc.Kind, svc.Metadata.Name)
	}
	const label = "app.kubernetes.io/name"
	if deploy.Spec.Template.Metadata.Labels[label] != name || deploy.Spec.Selector.MatchLabels[label] != name || svc.Spec.Selector[label] != name {
		t.Errorf("%s label/selector not %q", label, name)
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	fields := map[string]string{}
	values := map[string]string{}
	for _, e := range c.Env {
		fields[e.Name] = e.ValueFrom.FieldRef.FieldPath
		values[e.Name] = e.Value
	}
	for env, field := range map[string]string{
		"POD_NAME":      "metadata.name",
		"POD_NAMESPACE": "metadata.namespace",
		"POD_UID":       "metadata.uid",
		"NODE_NAME":     "spec.nodeName",
		"HOST_IP":       "status.hostIP",
	} {
		if fields[env] != field {
			t.Errorf("env %s from %q, want fieldRef %s", env, fields[env], field)
		}
	}
	if _, ok := values["KAFKA_BROKERS"]; ok != kafka {
		t.Errorf("KAFKA_BROKERS set: %v, want %v", ok, kafka)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/podinfo" {
		t.Errorf("volume mounts %+v, want podinfo at /etc/podinfo", c.VolumeMounts)
	}
	vols := deploy.Spec.Template.Spec.Volumes
	if len(vols) != 1 || vols[0].Name != c.VolumeMounts[0].Name || len(vols[0].DownwardAPI.Items) != 1 ||
		vols[0].DownwardAPI.Items[0].Path != "labels" || vols[0].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.labels" {
		t.Errorf("volumes %+v, want a downwardAPI labels file", vols)
	}
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, p.Name)
	}
	if got := slices.Contains(ports, "grpc"); got != grpc {
		t.Errorf("container ports %v: grpc %v, want %v", ports, got, grpc)
	}
}

func TestRenderDefaultsAndVersion(t *testing.T) {
	fs := renderMap(t, "cart")
	if !strings.HasPrefix(fs["go.mod"], "module cart\n") {
		t.Errorf("default module: %q", fs["go.mod"])
	}
	if !strings.Contains(fs["README.md"], "go work edit -replace=github.com/flowtrace/flowtrace@"+PlaceholderVersion) {
		t.Error("README does not explain the workspace for the placeholder version")
	}
	fs = renderMap(t, "cart", WithFlowtraceVersion("v0.3.0"))
	if !strings.Contains(fs["go.mod"], "github.com/flowtrace/flowtrace v0.3.0\n") || strings.Contains(fs["README.md"], "placeholder") {
		t.Errorf("published version: go.mod\n%s", fs["go.mod"])
	}
}

// fakeCheckout writes a directory that looks like a flowtrace checkout to
// the generator: flowtrace's go.mod first line and a go.sum.
func fakeCheckout(t *testing.T, dir, goSum string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/flowtrace/flowtrace\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(goSum), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const fakeSum = "github.com/opentracing/opentracing-go v1.2.0 h1:uEJPy/1a5RIPAJ0Ov+OIO8OxWu77jEv+1B0VhjKrZUg=\n" +
	"github.com/opentracing/opentracing-go v1.2.0/go.mod h1:GxEUsuufX4nBwe+T+Wl9TAgYrxe9dPLANfrWvHYVTgc=\n"

func TestRenderWorkspace(t *testing.T) {
	dir := fakeCheckout(t, t.TempDir(), fakeSum)
	fs := renderMap(t, "cart", WithWorkspace(dir))
	work := fs["go.work"]
	if !strings.Contains(work, "\t.\n\t"+dir+"\n") || !strings.Contains(work, "replace github.com/flowtrace/flowtrace "+PlaceholderVersion+" => "+dir+"\n") {
		t.Errorf("go.work:\n%s", work)
	}
	if fs["go.sum"] != fakeSum {
		t.Errorf("go.sum is not the checkout's:\n%s", fs["go.sum"])
	}
	if strings.Contains(fs["go.mod"], "replace") {
		t.Errorf("a workspace service's go.mod has a replace:\n%s", fs["go.mod"])
	}
	if !strings.Contains(fs[".gitignore"], "go.work\n") || !strings.Contains(fs[".dockerignore"], "go.work\n") {
		t.Error("go.work is not ignored by git and docker")
	}
	spaced := fakeCheckout(t, filepath.Join(dir, "my flowtrace"), fakeSum)
	if work := renderMap(t, "cart", WithWorkspace(spaced))["go.work"]; !strings.Contains(work, `"`+spaced+`"`) {
		t.Errorf("a path with a space is not quoted:\n%s", work)
	}
	// Render and Generate insist on a flowtrace checkout.
	empty := t.TempDir()
	if _, err := Render("cart", WithWorkspace(empty)); err == nil {
		t.Error("Render accepted a workspace without flowtrace's go.mod")
	}
	if err := Generate(filepath.Join(dir, "svc"), "cart", WithWorkspace(empty)); err == nil {
		t.Error("Generate accepted a workspace without flowtrace's go.mod")
	}
}

func TestRenderReplace(t *testing.T) {
	dir := fakeCheckout(t, filepath.Join(t.TempDir(), "flowtrace"), fakeSum)
	fs := renderMap(t, "cart", WithReplace(dir))
	if !strings.Contains(fs["go.mod"], "\nreplace github.com/flowtrace/flowtrace => "+dir+"\n") {
		t.Errorf("go.mod has no replace to %s:\n%s", dir, fs["go.mod"])
	}
	if fs["go.sum"] != fakeSum {
		t.Errorf("go.sum is not the checkout's:\n%s", fs["go.sum"])
	}
	if _, ok := fs["go.work"]; ok {
		t.Error("WithReplace wrote a go.work")
	}
	if !strings.Contains(fs["README.md"], "GOWORK=off go build") {
		t.Error("README does not say the module builds on its own")
	}

	for _, tc := range []struct {
		name, sum string
	}{
		{"not checksum lines", "#!/bin/sh\nrm -rf /\n"},
		{"a fourth field", "example.com/m v1.0.0 h1:abc= extra\n"},
		{"no h1 hash", "example.com/m v1.0.0 sha256:abc\n"},
		{"a carriage return", "example.com/m v1.0.0 h1:abc=\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := fakeCheckout(t, filepath.Join(t.TempDir(), "flowtrace"), tc.sum)
			if _, err := Render("cart", WithReplace(bad)); err == nil || !strings.Contains(err.Error(), "not a checksum line") {
				t.Errorf("Render with go.sum %q: err = %v, want a checksum-line error", tc.sum, err)
			}
		})
	}
	t.Run("go.sum is not a regular file", func(t *testing.T) {
		d := fakeCheckout(t, filepath.Join(t.TempDir(), "flowtrace"), "")
		sum := filepath.Join(d, "go.sum")
		if err := os.Remove(sum); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(sum, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := Render("cart", WithReplace(d)); err == nil {
			t.Error("Render read a directory as go.sum")
		}
	})
}

func TestRenderInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{name: "", want: "service name"},
		{name: "Checkout", want: "service name"},
		{name: "1checkout", want: "service name"},
		{name: "check_out", want: "service name"},
		{name: "checkout-", want: "service name"},
		{name: "-checkout", want: "service name"},
		{name: "check.out", want: "service name"},
		{name: strings.Repeat("a", 64), want: "service name"},
		{name: "ok", opts: []Option{WithModule("/abs")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule("a//b")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule("a/b/")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule("a b")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule(".hidden/x")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule("x./y")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule("-x/y")}, want: "module path"},
		{name: "ok", opts: []Option{WithModule("x/\"y")}, want: "module path"},
		{name: "ok", opts: []Option{WithFlowtraceVersion("1.2.3")}, want: "version"},
		{name: "ok", opts: []Option{WithFlowtraceVersion("latest")}, want: "version"},
	} {
		if _, err := Render(tc.name, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%q): error %v, want one about the %s", tc.name, err, tc.want)
		}
	}
	for _, ok := range []string{"a", "checkout", "order-history", "svc2", strings.Repeat("a", 63)} {
		if _, err := Render(ok); err != nil {
			t.Errorf("Render(%q): %v", ok, err)
		}
	}
	for _, ok := range []string{"example.com/team/checkout", "github.com/Org/svc/v2", "checkout", "example.com/a_b~c-d"} {
		if _, err := Render("x", WithModule(ok)); err != nil {
			t.Errorf("module %q: %v", ok, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	t.Run("new nested directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		if err := Generate(dir, "cart", WithGRPC()); err != nil {
			t.Fatal(err)
		}
		want, _ := Render("cart", WithGRPC())
		for _, f := range want {
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
			if err != nil || !bytes.Equal(got, f.Data) {
				t.Errorf("%s: %v, content equal: %v", f.Path, err, bytes.Equal(got, f.Data))
			}
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		if err := Generate(t.TempDir(), "cart"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refuses a non-empty directory", func(t *testing.T) {
		dir := t.TempDir()
		keep := filepath.Join(dir, "main.go")
		if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Generate(dir, "cart"); !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("err = %v, want ErrNotEmpty", err)
		}
		if b, _ := os.ReadFile(keep); string(b) != "mine" {
			t.Error("existing file changed")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("%d entries, want 1", len(entries))
		}
	})
	t.Run("refuses a file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Generate(p, "cart"); err == nil {
			t.Error("Generate into a file succeeded")
		}
	})
	t.Run("invalid input writes nothing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "svc")
		if err := Generate(dir, "Bad"); err == nil {
			t.Fatal("no error")
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory created: %v", err)
		}
	})
}

// TestVersionsMatchGoMod keeps the versions generated go.mod files require
// equal to flowtrace's own.
func TestVersionsMatchGoMod(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := string(b)
	for path, v := range map[string]string{
		"google.golang.org/grpc":                deps.GRPC,
		"github.com/segmentio/kafka-go":         deps.KafkaGo,
		"github.com/opentracing/opentracing-go": deps.OpenTracing,
	} {
		re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(path) + ` (\S+)`)
		m := re.FindStringSubmatch(gomod)
		if m == nil || m[1] != v {
			t.Errorf("flowtrace requires %s %v; templates use %s", path, m, v)
		}
	}
	if m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(gomod); m == nil || m[1] != goVersion {
		t.Errorf("flowtrace's go directive %v; templates use %s", m, goVersion)
	}
}
