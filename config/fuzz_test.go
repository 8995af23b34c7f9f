package config

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{
		"", "a=b", "Authorization=Bearer%20abc,x-tenant=t1", "a=%zz", "=v,k=", "k=v=w,,  ,k=x",
		"x=a%0D%0Ab", strings.Repeat("k=v,", 100), "k%3D=v%2C", "\xff=\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, bad := parseHeaders(s)
		if len(h) > maxHeaders || bad < 0 || bad > strings.Count(s, ",")+1 {
			t.Fatalf("unbounded: %d headers, %d bad", len(h), bad)
		}
		for k, v := range h {
			if k != strings.ToLower(k) || !validHeader(k, v) {
				t.Fatalf("invalid header %q=%q", k, v)
			}
		}
	})
}

func FuzzParseResourceAttributes(f *testing.F) {
	for _, s := range []string{
		"", "service.name=checkout", "a=b,a=c", "k=%E2%9C%93,broken", "k=%ff", "=x", " k = v ",
		strings.Repeat("k=v,", 200),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		attrs, bad := parseResourceAttributes(s)
		if len(attrs) > maxResourceAttrs || len(bad) > strings.Count(s, ",")+1 {
			t.Fatalf("unbounded: %d attributes, %d bad", len(attrs), len(bad))
		}
		seen := map[string]bool{}
		for _, a := range attrs {
			v, ok := a.Value.(string)
			if !ok || seen[a.Key] || !validAttrKey(a.Key) || len(v) > maxAttrValueLen || !utf8.ValidString(v) {
				t.Fatalf("invalid attribute %q=%#v", a.Key, a.Value)
			}
			seen[a.Key] = true
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{
		"", "app=\"checkout\"\n", "app.kubernetes.io/name=\"a\\u00e9\"\nx=y\n", "k=\"unterminated\n", "k=\"\\xff\"",
		"=\"v\"", "k=\"a\"\"b\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		labels := parseLabels(b)
		// Unquote turns each invalid byte into U+FFFD (3 bytes).
		if len(labels) > maxLabels {
			t.Fatalf("%d labels", len(labels))
		}
		for k, v := range labels {
			if !validAttrKey(k) || len(v) > maxAttrValueLen || !utf8.ValidString(v) || len(v) > 3*len(b) {
				t.Fatalf("invalid label %q=%q", k, v)
			}
		}
	})
}

func checkID(t *testing.T, line, id string) {
	if id != "" && (!isContainerID(id) || !strings.Contains(line, id)) {
		t.Fatalf("bad id %q from %q", id, line)
	}
}

func FuzzContainerIDFromCgroupLine(f *testing.F) {
	for _, s := range []string{
		"12:memory:/docker/" + idDockerV1, "0::/", "0::/system.slice/docker-" + idDockerV1 + ".scope",
		"0::/x/crio-conmon-" + idCrio + ".scope", "::", ":::", "1:cpu:/kubepods/pod1/" + idCgroupfs,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkID(t, line, containerIDFromCgroupLine(line))
	})
}

func FuzzContainerIDFromMountinfoLine(f *testing.F) {
	for _, s := range []string{
		"621 612 254:1 /var/lib/docker/containers/" + idDockerV2 + "/hostname /etc/hostname rw - ext4 /dev/vda1 rw",
		"705 700 0:40 /containers/storage/overlay-containers/" + idPodman + "/userdata/hostname /etc/hostname rw - tmpfs tmpfs rw",
		"1 2 3 /sandboxes/" + idContainerd + "/hostname /etc/hostname", "", "a b c d", "a b c /containers/ e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkID(t, line, containerIDFromMountinfoLine(line))
	})
}

func FuzzParseNumbers(f *testing.F) {
	for _, s := range []string{"0", "-1", "128", "99999999999999999999", "1e3", "0x10", " 7 ", "NaN", "Inf", "-0", "0.5", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseInt(s, 0, maxLimit); err == nil && (n < 0 || n > maxLimit) {
			t.Fatalf("parseInt(%q) = %d", s, n)
		}
		if d, err := parseMillis(s); err == nil && (d.Milliseconds() < 1 || d.Milliseconds() > maxMillis) {
			t.Fatalf("parseMillis(%q) = %v", s, d)
		}
		if x, err := parseFloat(s, 0, 1); err == nil && (math.IsNaN(x) || x < 0 || x > 1) {
			t.Fatalf("parseFloat(%q) = %v", s, x)
		}
		_, _ = parseBool(s)
		if l := parseList(s); len(l) > maxListItems {
			t.Fatalf("parseList: %d items", len(l))
		}
		if w, _ := workloadFromPod(s); !strings.HasPrefix(s, w) {
			t.Fatalf("workloadFromPod(%q) = %q", s, w)
		}
	})
}

// FuzzLoad feeds one value to many variables at once: Load must not panic,
// and each warning stays one bounded line.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"", "abc", "7", "-1", "true", "http://c:4317", "c:4317", "a=b,%zz", "\n\x1b[31m", "none,xray"} {
		f.Add(s)
	}
	names := []string{
		"OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
		"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_PROPAGATORS",
		"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "FLOWTRACE_K8S_LABELS_FILE",
		"KUBERNETES_SERVICE_HOST", "HOST_IP", "POD_NAME", "POD_NAMESPACE",
	}
	f.Fuzz(func(t *testing.T, v string) {
		env := map[string]string{}
		for _, n := range names {
			env[n] = v
		}
		c := load(env, nil)
		if c.ServiceName == "" || c.Endpoint == "" || len(c.Warnings) > len(names)+2 {
			t.Fatalf("bad config: %q %q %d warnings", c.ServiceName, c.Endpoint, len(c.Warnings))
		}
		for _, w := range c.Warnings {
			if strings.ContainsAny(w, "\n\r\x1b") || len(w) > 512 {
				t.Fatalf("bad warning %q", w)
			}
		}
		if s := c.Summary(); strings.ContainsAny(s, "\n\r\x1b") {
			t.Fatalf("bad summary %q", s)
		}
	})
}

// FuzzEndpoint: whatever OTEL_EXPORTER_OTLP_ENDPOINT holds, the resolved
// endpoint is an http or https URL with a host (a bare host:port becomes
// one for gRPC), and Load never panics.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:4317", "collector:4317", "[::1]:4317", "[fe80::1%eth0]:4317", "collector", ":4317",
		"user@c:4317", "c:4317/v1", "c:0", "c:99999", "https://c:4317", "http://u:p@c/?k=v", "c:4317?x", "c :4317",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": s}
		if insecure {
			env["OTEL_EXPORTER_OTLP_INSECURE"] = "true"
		}
		for _, protocol := range []string{ProtocolGRPC, ProtocolHTTPProtobuf} {
			env["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
			c := load(env, nil)
			if err := checkEndpoint(c.Endpoint); err != nil {
				t.Fatalf("%q (%s): resolved to %q: %v", s, protocol, c.Endpoint, err)
			}
			if c.EndpointNoScheme && (protocol != ProtocolGRPC || c.Insecure != strings.HasPrefix(c.Endpoint, "http://")) {
				t.Fatalf("%q (%s): no-scheme endpoint %q, insecure %v", s, protocol, c.Endpoint, c.Insecure)
			}
		}
	})
}
