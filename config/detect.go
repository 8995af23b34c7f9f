package config

import (
	"context"
	"errors"
	"fmt"
	"github.com/flowtrace/flowtrace/internal/safefile"

	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
)

// Resource attribute keys (OpenTelemetry semantic conventions, except the
// vcs.* keys, which are the Go toolchain's build-setting names).
const (
	attrServiceName    = "service.name"
	attrServiceVersion = "service.version"
	attrK8sPodName     = "k8s.pod.name"
)

// fallbackServiceName is the last resort, in the style of OpenTelemetry's
// "unknown_service:<process>".
const fallbackServiceName = "unknown_service:go"

// platform is what detectors may look at: the environment, a file system
// rooted at "/", and a few process facts, all injectable for tests.
type platform struct {
	env        lookupFunc
	fsys       fs.FS
	osRoot     bool
	hostname   func() (string, error)
	executable func() (string, error)
	pid        int
	buildInfo  func() (*debug.BuildInfo, bool)

	cloudURLs    CloudMetadataURLs
	cloudTimeout time.Duration
}

// detectorFunc returns what it found; an error with attributes is a partial
// result, not a failure.
type detectorFunc func(ctx context.Context, p *platform) ([]Attribute, error)

// detectors run in this order; a later detector's key replaces an earlier
// one's. Cloud detection runs last and only when enabled.
var detectors = []struct {
	name string
	fn   detectorFunc
}{
	{"sdk", detectSDK},
	{"host", detectHost},
	{"process", detectProcess},
	{"build", detectBuild},
	{"container", detectContainer},
	{"kubernetes", detectK8s},
}

// detect fills what configuration left unset: the resource, the service
// name and the default endpoint.
func (st *state) detect(ctx context.Context, s *settings) {
	p := &platform{
		env: s.env, fsys: s.fsys, osRoot: s.osRoot, hostname: s.hostname, executable: s.executable,
		pid: s.pid, buildInfo: s.buildInfo, cloudURLs: s.cloudURLs, cloudTimeout: s.cloudTimeout,
	}
	res := map[string]any{}
	for _, d := range detectors {
		st.runDetector(ctx, d.name, d.fn, p, res)
	}
	if st.cloud && !st.cfg.Disabled {
		st.runDetector(ctx, "cloud", detectCloud, p, res)
	}
	for _, a := range st.envResource {
		res[a.Key] = a.Value
	}
	for _, a := range st.optResource {
		res[a.Key] = a.Value
	}
	if st.cfg.ServiceName == "" {
		st.cfg.ServiceName, st.cfg.ServiceNameSource = st.detectServiceName(p, res)
	}
	st.cfg.Resource = sortedResource(res, st.cfg.ServiceName)
	st.resolveEndpoint(p.env)
}

// runDetector merges one detector's attributes into res. Errors other than
// missing files become warnings; a panic (from an injected file system, say)
// is contained.
func (st *state) runDetector(ctx context.Context, name string, fn detectorFunc, p *platform, res map[string]any) {
	attrs, err := func() (attrs []Attribute, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return fn(ctx, p)
	}()
	for _, a := range attrs {
		res[a.Key] = a.Value
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.warnf("detector %s: %s (partial result kept)", name, quote(err.Error()))
	}
}

// detectServiceName is the chain used when nobody named the service:
// Kubernetes app label, the workload name derived from the pod name, the
// main module, the executable, and a fixed fallback.
func (st *state) detectServiceName(p *platform, res map[string]any) (name, source string) {
	if onK8s(p.env) || st.labelsFile != defaultLabelsFile {
		key, v, err := appLabel(p, st.labelsFile)
		if v != "" {
			return v, "k8s label " + key
		}
		// A file the user named that cannot be read, or any special file,
		// is one warning; a missing or unreadable default file is not
		// (the downward API is optional).
		if err != nil && !errors.Is(err, fs.ErrNotExist) &&
			(st.labelsFile != defaultLabelsFile || safefile.Refused(err)) {
			st.warnf("labels file %s: %s; not used for the service name", quote("/"+st.labelsFile), fileReason(err))
		}
	}
	if pod, _ := res[attrK8sPodName].(string); pod != "" {
		if w, kind := workloadFromPod(pod); w != "" {
			return w, "k8s pod name (" + kind + ")"
		}
	}
	if bi, ok := p.buildInfo(); ok && bi != nil {
		if n := moduleServiceName(bi.Main.Path); n != "" {
			return n, "main module"
		}
	}
	if exe, err := p.executable(); err == nil {
		base := strings.TrimSuffix(filepath.Base(exe), ".exe")
		if n := cleanValue(base, 255); n != "" && n != "." && n != string(filepath.Separator) {
			return n, "executable"
		}
	}
	return fallbackServiceName, "default"
}

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// moduleServiceName is the last element of a module path, skipping a major
// version suffix: github.com/acme/checkout/v2 -> checkout.
func moduleServiceName(mod string) string {
	if mod == "" || mod == "command-line-arguments" {
		return ""
	}
	base := path.Base(mod)
	if majorVersion.MatchString(base) && path.Dir(mod) != "." {
		base = path.Base(path.Dir(mod))
	}
	return cleanValue(base, 255)
}

// resolveEndpoint turns the configured endpoint into the final URL, or
// picks the default: the node-local agent on Kubernetes, localhost
// elsewhere.
func (st *state) resolveEndpoint(env lookupFunc) {
	c := &st.cfg
	if st.endpointNoScheme {
		if c.Protocol == ProtocolGRPC {
			// OTLP specification: a gRPC endpoint without a scheme is
			// TLS unless the insecure setting says otherwise.
			scheme := "https"
			if st.insecure {
				scheme = "http"
			}
			c.Endpoint, c.Insecure, c.EndpointNoScheme = scheme+"://"+st.endpoint, st.insecure, true
			return
		}
		fallback := "the default endpoint"
		if st.endpointPrev != nil {
			fallback = "the endpoint from " + st.endpointPrev.source
		}
		st.warnf("%s %s: needs an http:// or https:// scheme with protocol %s; using %s",
			st.endpointSource, quote(redactURL(st.endpoint)), c.Protocol, fallback)
		st.endpoint, st.endpointGeneric, st.endpointNoScheme = "", false, false
		if p := st.endpointPrev; p != nil {
			st.endpoint, st.endpointGeneric = p.endpoint, p.generic
		}
	}
	if st.endpoint == "" {
		host := "localhost"
		if onK8s(env) {
			for _, name := range []string{"HOST_IP", "NODE_IP"} {
				_, v, ok := st.env(env, name)
				if !ok {
					continue
				}
				addr, err := netip.ParseAddr(v)
				if err != nil || addr.Zone() != "" {
					st.warnf("%s=%s: not an IP address; ignored for the default endpoint", name, quote(v))
					continue
				}
				host = addr.Unmap().String()
				break
			}
		}
		port, suffix := "4317", ""
		if c.Protocol == ProtocolHTTPProtobuf {
			port, suffix = "4318", "/v1/traces"
		}
		c.Endpoint = "http://" + net.JoinHostPort(host, port) + suffix
		c.EndpointImplicit = true
		c.Insecure = true
		return
	}
	u, _ := url.Parse(st.endpoint) // checked when it was set
	if st.endpointGeneric && c.Protocol == ProtocolHTTPProtobuf {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		u.RawPath = ""
	}
	c.Endpoint = u.String()
	c.Insecure = u.Scheme == "http"
	if st.insecure && !c.Insecure {
		st.warnf("%s ignored: the https endpoint %s uses TLS", st.insecureSource, quote(redactURL(c.Endpoint)))
	}
}

func detectSDK(context.Context, *platform) ([]Attribute, error) {
	return []Attribute{
		{Key: "telemetry.sdk.name", Value: "flowtrace"},
		{Key: "telemetry.sdk.language", Value: "go"},
		{Key: "telemetry.sdk.version", Value: SDKVersion},
	}, nil
}

// readBounded reads at most max bytes of the regular file name, within
// safefile.DefaultTimeout; truncated reports whether the file was longer.
// A FIFO, device, directory or socket is an error (safefile.ErrNotRegular),
// never a hang. On the default root the file is opened by its real path
// with O_NONBLOCK; an injected file system is checked with fs.Stat first.
func readBounded(p *platform, name string, max int64) (b []byte, truncated bool, err error) {
	if p.osRoot {
		return safefile.ReadPrefix("/"+name, max, safefile.DefaultTimeout)
	}
	return safefile.ReadPrefixFS(p.fsys, name, max, safefile.DefaultTimeout)
}

// fileReason is why a file could not be read, without the path (which the
// warning quotes separately, so a long path cannot cut the reason off).
func fileReason(err error) string {
	var fe *safefile.Error
	if errors.As(err, &fe) {
		return fe.Op + ": " + fe.Err.Error()
	}
	return err.Error()
}

// completeLines drops a partial last line from a truncated read.
func completeLines(b []byte, truncated bool) string {
	s := string(b)
	if truncated {
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		} else {
			s = ""
		}
	}
	return s
}
