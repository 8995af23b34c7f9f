package config

import (
	"context"
	"errors"
	"strings"
)

// Files the container detector reads, relative to the detector file system,
// and how much of each.
const (
	cgroupFile        = "proc/self/cgroup"
	mountinfoFile     = "proc/self/mountinfo"
	maxCgroupSize     = 64 << 10
	maxMountinfoSize  = 1 << 20
	containerIDLength = 64
)

// detectContainer reports container.id, from proc/self/cgroup (cgroup v1,
// and v2 outside a cgroup namespace) or else proc/self/mountinfo (cgroup v2
// with a private cgroup namespace, where the cgroup path is just "/").
func detectContainer(_ context.Context, p *platform) ([]Attribute, error) {
	id, err1 := scanLines(p, cgroupFile, maxCgroupSize, containerIDFromCgroupLine)
	if id == "" {
		var err2 error
		id, err2 = scanLines(p, mountinfoFile, maxMountinfoSize, containerIDFromMountinfoLine)
		if id == "" {
			return nil, errors.Join(err1, err2)
		}
	}
	return []Attribute{{Key: "container.id", Value: id}}, nil
}

// scanLines returns the first non-empty result of fn over the lines of a
// file read with a bound.
func scanLines(p *platform, file string, max int64, fn func(string) string) (string, error) {
	b, truncated, err := readBounded(p, file, max)
	for line := range strings.SplitSeq(completeLines(b, truncated), "\n") {
		if id := fn(line); id != "" {
			return id, nil
		}
	}
	return "", err
}

// containerIDFromCgroupLine extracts a container id from one line of
// /proc/self/cgroup ("hierarchy:controllers:path"). It recognises the last
// path element in these forms:
//
//	/docker/<id>                                    (Docker, cgroupfs)
//	/kubepods/burstable/pod<uid>/<id>               (Kubernetes, cgroupfs)
//	/system.slice/docker-<id>.scope                 (Docker, systemd)
//	.../cri-containerd-<id>.scope                   (containerd, systemd)
//	.../crio-<id>.scope                             (CRI-O, systemd)
//	.../libpod-<id>.scope                           (Podman)
//
// where <id> is 64 lower-case hex digits. CRI-O's conmon scopes
// (crio-conmon-<id>.scope) are not the container and are skipped.
func containerIDFromCgroupLine(line string) string {
	parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
	if len(parts) != 3 {
		return ""
	}
	p := parts[2]
	seg := strings.TrimSuffix(p[strings.LastIndexByte(p, '/')+1:], ".scope")
	for _, prefix := range []string{"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-"} {
		if strings.HasPrefix(seg, prefix) {
			seg = seg[len(prefix):]
			break
		}
	}
	if isContainerID(seg) {
		return seg
	}
	return ""
}

// containerIDFromMountinfoLine extracts a container id from one line of
// /proc/self/mountinfo: the mount root (field 4) of the files the runtime
// bind-mounts into the container (hostname, hosts, resolv.conf) has the id
// after a "containers" element (Docker: /var/lib/docker/containers/<id>/...)
// or an "overlay-containers" one (Podman, CRI-O:
// /var/lib/containers/storage/overlay-containers/<id>/userdata/...).
// Containerd's ".../sandboxes/<id>/" roots are deliberately not used: that
// id is the pod sandbox (pause container), not this process's container.
func containerIDFromMountinfoLine(line string) string {
	fields := strings.Fields(line)
	if len(fields) < 5 {
		return ""
	}
	segs := strings.Split(fields[3], "/")
	for i := 0; i+1 < len(segs); i++ {
		if (segs[i] == "containers" || segs[i] == "overlay-containers") && isContainerID(segs[i+1]) {
			return segs[i+1]
		}
	}
	return ""
}

func isContainerID(s string) bool {
	if len(s) != containerIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
