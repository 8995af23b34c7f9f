package config

import (
	"context"
	"errors"
	"strings"
)

// Files the Kubernetes detector reads, relative to the detector file system.
const (
	namespaceFile     = "var/run/secrets/kubernetes.io/serviceaccount/namespace"
	defaultLabelsFile = "etc/podinfo/labels" // FLOWTRACE_K8S_LABELS_FILE overrides
	maxLabelsFileSize = 64 << 10
)

// appLabelKeys name the service, in this order of preference.
var appLabelKeys = []string{"app.kubernetes.io/name", "app", "application"}

func onK8s(env lookupFunc) bool {
	v, ok := env("KUBERNETES_SERVICE_HOST")
	return ok && strings.TrimSpace(v) != ""
}

func envValue(env lookupFunc, name string) string {
	v, _ := env(name)
	return strings.TrimSpace(v)
}

// detectK8s reports the pod's namespace, name, uid, node and (derived from
// the pod name) deployment. It runs only when KUBERNETES_SERVICE_HOST is set.
// Downward-API variables: POD_NAME (else the host name, which Kubernetes
// sets to the pod name), POD_NAMESPACE (else the service-account namespace
// file), NODE_NAME, POD_UID.
func detectK8s(_ context.Context, p *platform) ([]Attribute, error) {
	if !onK8s(p.env) {
		return nil, nil
	}
	var attrs []Attribute
	var errs []error
	add := func(key, v string) {
		if v != "" {
			attrs = append(attrs, Attribute{Key: key, Value: v})
		}
	}

	ns := envValue(p.env, "POD_NAMESPACE")
	if ns == "" {
		b, _, err := readBounded(p, namespaceFile, 256)
		if err != nil {
			errs = append(errs, err)
		}
		ns = strings.TrimSpace(string(b))
	}
	add("k8s.namespace.name", dnsName(ns, 63))

	pod := envValue(p.env, "POD_NAME")
	if pod == "" {
		h, err := p.hostname()
		if err != nil {
			errs = append(errs, err)
		}
		pod = h
	}
	pod = dnsName(pod, 253)
	add(attrK8sPodName, pod)
	if w, kind := workloadFromPod(pod); kind == "deployment" {
		add("k8s.deployment.name", w)
	}
	add("k8s.node.name", dnsName(envValue(p.env, "NODE_NAME"), 253))
	add("k8s.pod.uid", uid(envValue(p.env, "POD_UID")))
	return attrs, errors.Join(errs...)
}

// dnsName returns s if it is a lower-case DNS name (letters, digits, '-',
// '.') of at most max bytes, else "".
func dnsName(s string, max int) string {
	if s == "" || len(s) > max {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return ""
		}
	}
	return s
}

// uid returns s if it looks like a Kubernetes UID (hex digits and dashes).
func uid(s string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || '0' <= c && c <= '9' || c == '-') {
			return ""
		}
	}
	return s
}

// appLabel reads the downward-API labels file (at most 64 KiB) and returns
// the first app label present; err is why the file could not be read.
func appLabel(p *platform, file string) (key, value string, err error) {
	b, truncated, err := readBounded(p, file, maxLabelsFileSize)
	if err != nil && len(b) == 0 {
		return "", "", err
	}
	labels := parseLabels([]byte(completeLines(b, truncated)))
	for _, k := range appLabelKeys {
		if v := cleanValue(labels[k], 255); v != "" {
			return k, v, nil
		}
	}
	return "", "", nil
}

// safeChars is the alphabet Kubernetes uses for generated name suffixes
// (k8s.io/apimachinery/pkg/util/rand.SafeEncodeString): no vowels, no 0, 1, 3.
const safeChars = "bcdfghjklmnpqrstvwxz2456789"

func allSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(safeChars, s[i]) < 0 {
			return false
		}
	}
	return true
}

// workloadFromPod derives the controller's name from a generated pod name:
//
//	checkout-7d9f8b6c5d-x2x4z -> checkout, "deployment" (ReplicaSet hash + suffix)
//	db-0                      -> db, "statefulset"
//	agent-x2x4z               -> agent, "generated" (DaemonSet, Job, generateName)
//
// Any other name is returned as is with kind "pod".
func workloadFromPod(pod string) (name, kind string) {
	if pod == "" {
		return "", ""
	}
	parts := strings.Split(pod, "-")
	n := len(parts)
	last := parts[n-1]
	switch {
	case n >= 3 && len(last) == 5 && allSafe(last) &&
		len(parts[n-2]) >= 6 && len(parts[n-2]) <= 10 && allSafe(parts[n-2]) &&
		strings.Join(parts[:n-2], "") != "":
		return strings.Join(parts[:n-2], "-"), "deployment"
	case n >= 2 && isOrdinal(last) && strings.Join(parts[:n-1], "") != "":
		return strings.Join(parts[:n-1], "-"), "statefulset"
	case n >= 2 && len(last) == 5 && allSafe(last) && strings.Join(parts[:n-1], "") != "":
		return strings.Join(parts[:n-1], "-"), "generated"
	}
	return pod, "pod"
}

func isOrdinal(s string) bool {
	if s == "" || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
