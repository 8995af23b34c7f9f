package config

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// metadataServer fakes EC2 IMDSv2, GCE and the ECS task endpoint on one
// httptest server (127.0.0.1), counting requests.
type metadataServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newMetadataServer(t *testing.T, handler http.HandlerFunc) *metadataServer {
	m := &metadataServer{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		handler(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func ec2Handler(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "ttl", http.StatusBadRequest)
			return
		}
		w.Write([]byte("tok-123"))
	case r.Method == http.MethodGet && r.URL.Path == "/latest/dynamic/instance-identity/document":
		if r.Header.Get("X-aws-ec2-metadata-token") != "tok-123" {
			http.Error(w, "token", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"accountId":"111122223333","region":"eu-west-1","availabilityZone":"eu-west-1b",
			"instanceId":"i-0abc","instanceType":"m7g.large","imageId":"ami-1","privateIp":"10.0.0.7"}`))
	default:
		http.NotFound(w, r)
	}
}

func gceHandler(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Metadata-Flavor") != "Google" {
		http.Error(w, "flavor", http.StatusForbidden)
		return
	}
	w.Header().Set("Metadata-Flavor", "Google")
	switch r.URL.Path {
	case "/computeMetadata/v1/instance/id":
		w.Write([]byte("4520031799277581759"))
	case "/computeMetadata/v1/project/project-id":
		w.Write([]byte("acme-prod"))
	case "/computeMetadata/v1/instance/zone":
		w.Write([]byte("projects/123/zones/us-central1-a"))
	case "/computeMetadata/v1/instance/machine-type":
		w.Write([]byte("projects/123/machineTypes/e2-medium"))
	default:
		http.NotFound(w, r)
	}
}

func ecsHandler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v4/abc/task" {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(`{"Cluster":"default","TaskARN":"arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c",
		"Family":"checkout","Revision":"26","AvailabilityZone":"us-west-2d","LaunchType":"EC2","Containers":[]}`))
}

func hangHandler(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func cloudOpts(ec2, gce string) []Option {
	return []Option{WithCloudMetadata(), WithCloudMetadataURLs(CloudMetadataURLs{EC2: ec2, GCE: gce})}
}

func TestCloudEC2(t *testing.T) {
	ec2 := newMetadataServer(t, ec2Handler)
	gce := newMetadataServer(t, http.NotFound)
	c := load(nil, nil, cloudOpts(ec2.URL, gce.URL)...)
	require.Empty(t, c.Warnings)
	m := attrMap(c.Resource)
	for k, v := range map[string]any{
		"cloud.provider": "aws", "cloud.platform": "aws_ec2", "cloud.region": "eu-west-1",
		"cloud.availability_zone": "eu-west-1b", "cloud.account.id": "111122223333",
		"host.id": "i-0abc", "host.type": "m7g.large", "host.image.id": "ami-1",
	} {
		require.Equal(t, v, m[k], k)
	}
}

func TestCloudGCE(t *testing.T) {
	ec2 := newMetadataServer(t, http.NotFound)
	gce := newMetadataServer(t, gceHandler)
	c := load(map[string]string{"FLOWTRACE_CLOUD_METADATA": "true"}, nil,
		WithCloudMetadataURLs(CloudMetadataURLs{EC2: ec2.URL, GCE: gce.URL}))
	require.Empty(t, c.Warnings)
	m := attrMap(c.Resource)
	for k, v := range map[string]any{
		"cloud.provider": "gcp", "cloud.platform": "gcp_compute_engine", "cloud.account.id": "acme-prod",
		"cloud.availability_zone": "us-central1-a", "cloud.region": "us-central1",
		"host.id": "4520031799277581759", "host.type": "e2-medium",
	} {
		require.Equal(t, v, m[k], k)
	}
}

func TestCloudGCEWithoutFlavorHeaderIsIgnored(t *testing.T) {
	ec2 := newMetadataServer(t, http.NotFound)
	gce := newMetadataServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("spoofed")) })
	c := load(nil, nil, cloudOpts(ec2.URL, gce.URL)...)
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "detector cloud")
	require.NotContains(t, attrMap(c.Resource), "cloud.provider")
}

func TestCloudECSOnEC2(t *testing.T) {
	ec2 := newMetadataServer(t, ec2Handler)
	gce := newMetadataServer(t, gceHandler) // another cloud answering too: dropped
	ecs := newMetadataServer(t, ecsHandler)
	env := map[string]string{"ECS_CONTAINER_METADATA_URI_V4": ecs.URL + "/v4/abc"}
	c := load(env, nil, cloudOpts(ec2.URL, gce.URL)...)
	require.Empty(t, c.Warnings)
	m := attrMap(c.Resource)
	for k, v := range map[string]any{
		"cloud.provider": "aws", "cloud.platform": "aws_ecs", "cloud.region": "us-west-2",
		"cloud.account.id": "111122223333", "cloud.availability_zone": "us-west-2d",
		"aws.ecs.cluster.arn":   "arn:aws:ecs:us-west-2:111122223333:cluster/default",
		"aws.ecs.task.arn":      "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c",
		"aws.ecs.task.family":   "checkout",
		"aws.ecs.task.revision": "26",
		"aws.ecs.launchtype":    "ec2",
		"host.id":               "i-0abc", // from EC2, same provider
	} {
		require.Equal(t, v, m[k], k)
	}
	require.Equal(t, "m7g.large", m["host.type"], "EC2's keys are merged under ECS's")
}

func TestCloudIsOptIn(t *testing.T) {
	srv := newMetadataServer(t, ec2Handler)
	c := load(nil, nil, WithCloudMetadataURLs(CloudMetadataURLs{EC2: srv.URL, GCE: srv.URL}))
	require.Empty(t, c.Warnings)
	require.Zero(t, srv.hits.Load())
	require.NotContains(t, attrMap(c.Resource), "cloud.provider")

	// Disabled SDK: no network either.
	c = load(map[string]string{"OTEL_SDK_DISABLED": "true"}, nil, cloudOpts(srv.URL, srv.URL)...)
	require.Zero(t, srv.hits.Load())
}

func TestCloudHangingServersAreBounded(t *testing.T) {
	hang := newMetadataServer(t, hangHandler)
	env := map[string]string{"ECS_CONTAINER_METADATA_URI_V4": hang.URL + "/v4/abc"}
	start := time.Now()
	c := load(env, nil, cloudOpts(hang.URL, hang.URL)...)
	elapsed := time.Since(start)
	require.Less(t, elapsed, 1300*time.Millisecond)
	require.GreaterOrEqual(t, elapsed, 900*time.Millisecond)
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "detector cloud")
	require.Equal(t, "inventory", c.ServiceName)
}

func TestCloudRespectsContext(t *testing.T) {
	hang := newMetadataServer(t, hangHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	Load(ctx, hermetic(nil, nil, cloudOpts(hang.URL, hang.URL)...)...)
	require.Less(t, time.Since(start), 700*time.Millisecond)
}

func TestCloudBodiesAreBounded(t *testing.T) {
	big := newMetadataServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Metadata-Flavor", "Google")
		if r.Method == http.MethodPut {
			w.Write([]byte("tok"))
			return
		}
		w.Write([]byte(`{"instanceId":"` + strings.Repeat("x", 10<<20) + `"}`))
	})
	c := load(nil, nil, append(cloudOpts(big.URL, big.URL), withCloudTimeout(5*time.Second))...)
	require.Len(t, c.Warnings, 1)
	require.NotContains(t, attrMap(c.Resource), "cloud.provider")
}

func TestCloudNoRedirects(t *testing.T) {
	target := newMetadataServer(t, ec2Handler)
	redir := newMetadataServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c := load(nil, nil, cloudOpts(redir.URL, redir.URL)...)
	require.Len(t, c.Warnings, 1)
	require.Zero(t, target.hits.Load())
}
