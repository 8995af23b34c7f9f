package config

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

const (
	idContainerd = "2397d068a8d1552a4c3f9147ba9c94e086bfd66fb2acb5bbaf47197105127d5f"
	idCgroupfs   = "8f9081d15c116dc2d920110b65698e971053f5d26db951b5d2005587d055f4d9"
	idDockerV1   = "6f1c3a260be1fc1d6102697c7bc37f9fa5d177d3141e61df8d23dfdfb514e312"
	idDockerV2   = "f45d3d5de96c9d80bad8e1f454937ddc315d8f2ecd6bef9f83760ca871e21db6"
	idPodman     = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
	idCrio       = "c64064614423cb790e88b3e5492ff5ccf673b25ae823089f7a60c65cda24d809"
)

func fixture(name string) fs.FS { return os.DirFS("testdata/" + name) }

func testPlatform(env map[string]string, fsys fs.FS) *platform {
	s := newSettings(hermetic(env, fsys))
	return &platform{env: s.env, fsys: s.fsys, hostname: s.hostname, executable: s.executable,
		pid: s.pid, buildInfo: s.buildInfo, cloudURLs: s.cloudURLs, cloudTimeout: s.cloudTimeout}
}

func attrMap(attrs []Attribute) map[string]any {
	m := map[string]any{}
	for _, a := range attrs {
		m[a.Key] = a.Value
	}
	return m
}

func TestDetectContainer(t *testing.T) {
	for _, tt := range []struct{ fixture, want string }{
		{"k8s-containerd", idContainerd},
		{"k8s-cgroupfs", idCgroupfs},
		{"docker-v1", idDockerV1},
		{"docker-v2", idDockerV2},
		{"podman-v2", idPodman},
		{"crio", idCrio},
		{"sandbox-only", ""},
		{"host", ""},
		{"does-not-exist", ""},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			attrs, err := detectContainer(context.Background(), testPlatform(nil, fixture(tt.fixture)))
			if tt.want == "" {
				require.Empty(t, attrs)
				if err != nil {
					require.ErrorIs(t, err, fs.ErrNotExist)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, []Attribute{{Key: "container.id", Value: tt.want}}, attrs)
		})
	}
}

func TestContainerIDFromCgroupLine(t *testing.T) {
	id := idDockerV1
	for line, want := range map[string]string{
		"12:memory:/docker/" + id:                                    id,
		"0::/system.slice/docker-" + id + ".scope":                   id,
		"1:name=systemd:/machine.slice/libpod-" + id + ".scope":      id,
		"0::/kubepods.slice/x.slice/cri-containerd-" + id + ".scope": id,
		"0::/kubepods.slice/x.slice/crio-conmon-" + id + ".scope":    "",
		"0::/":                              "",
		"0::/docker/" + strings.ToUpper(id): "",
		"0::/docker/" + id[:63]:             "",
		"garbage":                           "",
		"5:cpu:/kubepods/besteffort/pod123/" + id + "\r": id,
		"::/ecs/5a1b/" + id:               id,
		"1:cpu:/docker/" + id + "/nested": "",
		"3:memory:/user.slice/user-1000.slice/user@1000.service/app.slice": "",
	} {
		require.Equal(t, want, containerIDFromCgroupLine(line), line)
	}
}

func TestDetectContainerUnreadable(t *testing.T) {
	fsys := errFS{err: fs.ErrPermission}
	attrs, err := detectContainer(context.Background(), testPlatform(nil, fsys))
	require.Empty(t, attrs)
	require.ErrorIs(t, err, fs.ErrPermission)

	// Through Load: one warning per detector that failed, nothing else.
	c := load(map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "POD_NAME": "web-0"}, fsys)
	require.Len(t, c.Warnings, 2, "%q", c.Warnings)
	require.Contains(t, c.Warnings[0], "detector container")
	require.Contains(t, c.Warnings[1], "detector kubernetes")
	require.Equal(t, "web", c.ServiceName)
}

func TestDetectorPanicIsContained(t *testing.T) {
	c := load(nil, panicFS{})
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "panic")
	require.Equal(t, "inventory", c.ServiceName)
}

func TestDetectK8s(t *testing.T) {
	env := map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.96.0.1",
		"POD_NAME":                "checkout-7d9f8b6c5d-x2x4z",
		"NODE_NAME":               "ip-10-0-0-7.ec2.internal",
		"POD_UID":                 "6b3c8f2e-1f0a-4c1e-9d7b-2a5e4f6c8d90",
		"HOST_IP":                 "10.0.0.7",
	}
	attrs, err := detectK8s(context.Background(), testPlatform(env, fixture("k8s-containerd")))
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"k8s.namespace.name":  "shop",
		"k8s.pod.name":        "checkout-7d9f8b6c5d-x2x4z",
		"k8s.deployment.name": "checkout",
		"k8s.node.name":       "ip-10-0-0-7.ec2.internal",
		"k8s.pod.uid":         "6b3c8f2e-1f0a-4c1e-9d7b-2a5e4f6c8d90",
	}, attrMap(attrs))

	// POD_NAMESPACE wins over the file; the pod name falls back to the host name.
	env = map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "POD_NAMESPACE": "payments", "POD_UID": "not a uid"}
	attrs, err = detectK8s(context.Background(), testPlatform(env, fixture("k8s-containerd")))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"k8s.namespace.name": "payments", "k8s.pod.name": "build-host"}, attrMap(attrs))

	// Not on Kubernetes: nothing, not even files are read.
	attrs, err = detectK8s(context.Background(), testPlatform(nil, panicFS{}))
	require.NoError(t, err)
	require.Empty(t, attrs)
}

func TestLoadOnK8s(t *testing.T) {
	env := map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.96.0.1",
		"POD_NAME":                "checkout-7d9f8b6c5d-x2x4z",
		"HOST_IP":                 "10.0.0.7",
	}
	c := load(env, fixture("k8s-containerd"))
	require.Empty(t, c.Warnings)
	require.Equal(t, "checkout", c.ServiceName)
	require.Equal(t, "k8s label app.kubernetes.io/name", c.ServiceNameSource)
	require.Equal(t, "http://10.0.0.7:4317", c.Endpoint)
	require.True(t, c.EndpointImplicit)
	require.True(t, c.Insecure)
	v, _ := attr(c, "container.id")
	require.Equal(t, idContainerd, v)
	v, _ = attr(c, "k8s.namespace.name")
	require.Equal(t, "shop", v)

	c = load(env, fixture("k8s-containerd"), WithProtocol("http/protobuf"))
	require.Equal(t, "http://10.0.0.7:4318/v1/traces", c.Endpoint)

	// IPv6 node address, NODE_IP as second choice.
	env2 := map[string]string{"KUBERNETES_SERVICE_HOST": "x", "NODE_IP": "fd00::7"}
	require.Equal(t, "http://[fd00::7]:4317", load(env2, nil).Endpoint)

	// An explicit endpoint is not replaced by the agent.
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "https://gateway:4317"
	c = load(env, fixture("k8s-containerd"))
	require.Equal(t, "https://gateway:4317", c.Endpoint)
	require.False(t, c.EndpointImplicit)
	require.False(t, c.Insecure)
}

func TestServiceNameFromK8s(t *testing.T) {
	labels := func(s string) fstest.MapFS {
		return fstest.MapFS{"etc/podinfo/labels": {Data: []byte(s)}}
	}
	k8s := func(pod string) map[string]string {
		return map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "POD_NAME": pod}
	}
	tests := []struct {
		name       string
		env        map[string]string
		fsys       fs.FS
		want, from string
	}{
		{"app label second choice", k8s("x-0"), labels("app=\"cart\"\napplication=\"c\"\n"), "cart", "k8s label app"},
		{"application label", k8s("x-0"), labels("tier=\"web\"\napplication=\"billing\"\n"), "billing", "k8s label application"},
		{"deployment pod", k8s("checkout-7d9f8b6c5d-x2x4z"), nil, "checkout", "k8s pod name (deployment)"},
		{"statefulset pod", k8s("db-0"), nil, "db", "k8s pod name (statefulset)"},
		{"daemonset pod", k8s("node-agent-x2x4z"), nil, "node-agent", "k8s pod name (generated)"},
		{"bare pod", k8s("debug"), nil, "debug", "k8s pod name (pod)"},
		{"labels file elsewhere", map[string]string{"FLOWTRACE_K8S_LABELS_FILE": "/podinfo/l"},
			fstest.MapFS{"podinfo/l": {Data: []byte(`app.kubernetes.io/name="api"`)}}, "api", "k8s label app.kubernetes.io/name"},
		{"labels ignored off Kubernetes", nil, labels(`app="cart"`), "inventory", "main module"},
		{"env beats detection", map[string]string{"KUBERNETES_SERVICE_HOST": "x", "OTEL_SERVICE_NAME": "svc"}, labels(`app="cart"`), "svc", "OTEL_SERVICE_NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(tt.env, tt.fsys)
			require.Empty(t, c.Warnings)
			require.Equal(t, tt.want, c.ServiceName)
			require.Equal(t, tt.from, c.ServiceNameSource)
		})
	}
}

func TestWorkloadFromPod(t *testing.T) {
	for pod, want := range map[string][2]string{
		"checkout-7d9f8b6c5d-x2x4z":        {"checkout", "deployment"},
		"shop-checkout-5c8d7b9f4-abcde":    {"shop-checkout-5c8d7b9f4-abcde", "pod"}, // vowels: not generated
		"shop-checkout-5c8d7b9f4-bcdfg":    {"shop-checkout", "deployment"},
		"db-0":                             {"db", "statefulset"},
		"kafka-broker-12":                  {"kafka-broker", "statefulset"},
		"db-01":                            {"db-01", "pod"},
		"agent-x2x4z":                      {"agent", "generated"},
		"migrate":                          {"migrate", "pod"},
		"-x2x4z":                           {"-x2x4z", "pod"},
		"a-7d9f8b6c5d":                     {"a-7d9f8b6c5d", "pod"},
		"":                                 {"", ""},
		"web-7d9f8b6c5d-x2x4z-extra-bcdfg": {"web-7d9f8b6c5d-x2x4z-extra", "generated"},
	} {
		name, kind := workloadFromPod(pod)
		require.Equal(t, want, [2]string{name, kind}, pod)
	}
}

func TestParseLabels(t *testing.T) {
	b, err := os.ReadFile("testdata/k8s-containerd/etc/podinfo/labels")
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"app":                       "legacy-name",
		"app.kubernetes.io/name":    "checkout",
		"app.kubernetes.io/version": "1.4.2",
		"pod-template-hash":         "7d9f8b6c5d",
		"team":                      "paymentsé",
	}, parseLabels(b))
}

func TestLabelsFileBounded(t *testing.T) {
	// A huge labels file: only the first 64 KiB is read, and the line cut
	// at the limit is dropped.
	pad := strings.Repeat("x=\"y\"\n", (maxLabelsFileSize-20)/6)
	data := pad + "app=\"" + strings.Repeat("z", 100) + "\"\n"
	fsys := fstest.MapFS{"etc/podinfo/labels": {Data: []byte(data + strings.Repeat("q", 1<<20))}}
	key, v, err := appLabel(testPlatform(nil, fsys), defaultLabelsFile)
	require.NoError(t, err)
	require.Empty(t, key+v)
}

func TestDetectHostProcessBuild(t *testing.T) {
	p := testPlatform(nil, nil)
	attrs, err := detectHost(context.Background(), p)
	require.NoError(t, err)
	m := attrMap(attrs)
	require.Equal(t, "build-host", m["host.name"])
	require.NotEmpty(t, m["os.type"])
	require.NotEmpty(t, m["host.arch"])

	p.hostname = func() (string, error) { return "bad\nhost", nil }
	attrs, _ = detectHost(context.Background(), p)
	require.NotContains(t, attrMap(attrs), "host.name")

	attrs, err = detectProcess(context.Background(), p)
	require.NoError(t, err)
	m = attrMap(attrs)
	require.Equal(t, int64(4242), m["process.pid"])
	require.Equal(t, "inventory-server", m["process.executable.name"])
	require.Equal(t, "go", m["process.runtime.name"])
	require.True(t, strings.HasPrefix(m["process.runtime.version"].(string), "go"))

	attrs, err = detectBuild(context.Background(), p)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"service.version": "v2.3.4",
		"vcs.revision":    "0123456789abcdef0123456789abcdef01234567",
		"vcs.time":        "2026-01-02T03:04:05Z",
		"vcs.modified":    true,
	}, attrMap(attrs))

	require.Equal(t, "inventory", moduleServiceName("github.com/acme/inventory/v2"))
	require.Equal(t, "tool", moduleServiceName("tool"))
	require.Equal(t, "v2", moduleServiceName("v2"))
	require.Equal(t, "", moduleServiceName("command-line-arguments"))
}

// errFS fails every Open with err.
type errFS struct{ err error }

func (f errFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: f.err}
}

// panicFS panics on Open, as a buggy injected file system might.
type panicFS struct{}

func (panicFS) Open(string) (fs.File, error) { panic(errors.New("boom")) }
