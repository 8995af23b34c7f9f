package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Cloud detection bounds: all providers together get cloudTimeout, and a
// response body is read up to these many bytes.
const (
	cloudTimeout    = time.Second
	maxMetadataBody = 64 << 10
	maxECSTaskBody  = 256 << 10
)

// Default metadata services.
const (
	defaultEC2URL = "http://169.254.169.254"
	defaultGCEURL = "http://metadata.google.internal"
)

type cloudProvider struct {
	name string
	fn   func(ctx context.Context, c *http.Client, p *platform) ([]Attribute, error)
}

// cloudProviders in order of preference: ECS is more specific than EC2 (an
// ECS task on EC2 answers both).
var cloudProviders = []cloudProvider{
	{"ecs", detectECS},
	{"ec2", detectEC2},
	{"gce", detectGCE},
}

// detectCloud asks all providers' metadata services at once, within
// p.cloudTimeout, and keeps the attributes of the most preferred provider
// that answered, merged with the others of the same cloud.provider. It
// returns only after every request has ended.
func detectCloud(ctx context.Context, p *platform) ([]Attribute, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cloudTimeout)
	defer cancel()
	tr := &http.Transport{
		Proxy:                  nil, // metadata services are link-local: never via a proxy
		DialContext:            (&net.Dialer{Timeout: p.cloudTimeout}).DialContext,
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  p.cloudTimeout,
		MaxResponseHeaderBytes: 16 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	results := make([][]Attribute, len(cloudProviders))
	errs := make([]error, len(cloudProviders))
	var wg sync.WaitGroup
	for i, cp := range cloudProviders {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("%s: panic: %v", cp.name, r)
				}
			}()
			results[i], errs[i] = cp.fn(ctx, client, p)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", cp.name, errs[i])
			}
		})
	}
	wg.Wait()

	provider := ""
	var out []Attribute
	for i := len(results) - 1; i >= 0; i-- {
		if v := providerOf(results[i]); v != "" && errs[i] == nil {
			if provider != "" && provider != v {
				out = nil // a more preferred cloud answered: drop the other's
			}
			provider = v
			out = append(out, results[i]...)
		}
	}
	if provider == "" {
		return nil, fmt.Errorf("no cloud metadata service answered within %v", p.cloudTimeout)
	}
	return out, nil
}

func providerOf(attrs []Attribute) string {
	for _, a := range attrs {
		if a.Key == "cloud.provider" {
			s, _ := a.Value.(string)
			return s
		}
	}
	return ""
}

// errSkipped marks a provider that does not apply (ECS without its
// variable); it is never reported because another provider's result or the
// overall "no cloud" error is.
var errSkipped = errors.New("not applicable")

// fetchMetadata does one bounded request and returns the body of a 200
// response.
func fetchMetadata(ctx context.Context, c *http.Client, method, url string, header map[string]string, max int64) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(b)) > max {
		return nil, nil, fmt.Errorf("%s %s: response larger than %d bytes", method, url, max)
	}
	return b, resp.Header, nil
}

// detectECS reads the ECS task metadata endpoint v4 ($ECS_CONTAINER_METADATA_URI_V4/task).
func detectECS(ctx context.Context, c *http.Client, p *platform) ([]Attribute, error) {
	base := envValue(p.env, "ECS_CONTAINER_METADATA_URI_V4")
	if base == "" {
		return nil, errSkipped
	}
	if err := checkEndpoint(base); err != nil {
		return nil, fmt.Errorf("ECS_CONTAINER_METADATA_URI_V4: %w", err)
	}
	b, _, err := fetchMetadata(ctx, c, http.MethodGet, strings.TrimSuffix(base, "/")+"/task", nil, maxECSTaskBody)
	if err != nil {
		return nil, err
	}
	var task struct {
		Cluster, TaskARN, Family, Revision, AvailabilityZone, LaunchType string
	}
	if err := json.Unmarshal(b, &task); err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	attrs := []Attribute{{Key: "cloud.provider", Value: "aws"}, {Key: "cloud.platform", Value: "aws_ecs"}}
	add := func(k, v string) {
		if v = cleanValue(v, 512); v != "" {
			attrs = append(attrs, Attribute{Key: k, Value: v})
		}
	}
	// arn:aws:ecs:<region>:<account>:task/<cluster>/<id>
	arn := strings.SplitN(task.TaskARN, ":", 6)
	if len(arn) == 6 && arn[0] == "arn" {
		add("cloud.region", arn[3])
		add("cloud.account.id", arn[4])
		cluster := task.Cluster
		if !strings.HasPrefix(cluster, "arn:") && cluster != "" {
			cluster = strings.Join(arn[:5], ":") + ":cluster/" + cluster
		}
		add("aws.ecs.cluster.arn", cluster)
	}
	add("aws.ecs.task.arn", task.TaskARN)
	add("aws.ecs.task.family", task.Family)
	add("aws.ecs.task.revision", task.Revision)
	add("aws.ecs.launchtype", strings.ToLower(task.LaunchType))
	add("cloud.availability_zone", task.AvailabilityZone)
	return attrs, nil
}

// detectEC2 uses IMDSv2: a PUT for a session token, then the instance
// identity document.
func detectEC2(ctx context.Context, c *http.Client, p *platform) ([]Attribute, error) {
	base := strings.TrimSuffix(p.cloudURLs.EC2, "/")
	if base == "" {
		base = defaultEC2URL
	}
	token, _, err := fetchMetadata(ctx, c, http.MethodPut, base+"/latest/api/token",
		map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}, 1024)
	if err != nil {
		return nil, err
	}
	b, _, err := fetchMetadata(ctx, c, http.MethodGet, base+"/latest/dynamic/instance-identity/document",
		map[string]string{"X-aws-ec2-metadata-token": strings.TrimSpace(string(token))}, maxMetadataBody)
	if err != nil {
		return nil, err
	}
	var doc struct {
		AccountID        string `json:"accountId"`
		Region           string `json:"region"`
		AvailabilityZone string `json:"availabilityZone"`
		InstanceID       string `json:"instanceId"`
		InstanceType     string `json:"instanceType"`
		ImageID          string `json:"imageId"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("identity document: %w", err)
	}
	if doc.InstanceID == "" {
		return nil, errors.New("identity document without instanceId")
	}
	attrs := []Attribute{{Key: "cloud.provider", Value: "aws"}, {Key: "cloud.platform", Value: "aws_ec2"}}
	for _, kv := range [][2]string{
		{"cloud.region", doc.Region},
		{"cloud.availability_zone", doc.AvailabilityZone},
		{"cloud.account.id", doc.AccountID},
		{"host.id", doc.InstanceID},
		{"host.type", doc.InstanceType},
		{"host.image.id", doc.ImageID},
	} {
		if v := cleanValue(kv[1], 256); v != "" {
			attrs = append(attrs, Attribute{Key: kv[0], Value: v})
		}
	}
	return attrs, nil
}

// detectGCE reads a few values from the GCE metadata server; a response
// without the Metadata-Flavor: Google header is not trusted.
func detectGCE(ctx context.Context, c *http.Client, p *platform) ([]Attribute, error) {
	base := strings.TrimSuffix(p.cloudURLs.GCE, "/")
	if base == "" {
		base = defaultGCEURL
	}
	get := func(path string) (string, error) {
		b, h, err := fetchMetadata(ctx, c, http.MethodGet, base+"/computeMetadata/v1/"+path,
			map[string]string{"Metadata-Flavor": "Google"}, maxMetadataBody)
		if err != nil {
			return "", err
		}
		if h.Get("Metadata-Flavor") != "Google" {
			return "", errors.New("response without Metadata-Flavor: Google")
		}
		return cleanValue(string(b), 512), nil
	}
	id, err := get("instance/id")
	if err != nil {
		return nil, err
	}
	attrs := []Attribute{{Key: "cloud.provider", Value: "gcp"}, {Key: "cloud.platform", Value: "gcp_compute_engine"}}
	if id != "" {
		attrs = append(attrs, Attribute{Key: "host.id", Value: id})
	}
	// The instance id answered: the rest is best effort.
	if project, err := get("project/project-id"); err == nil && project != "" {
		attrs = append(attrs, Attribute{Key: "cloud.account.id", Value: project})
	}
	// projects/<number>/zones/us-central1-a
	if zone, err := get("instance/zone"); err == nil && lastElem(zone) != "" {
		zone = lastElem(zone)
		attrs = append(attrs, Attribute{Key: "cloud.availability_zone", Value: zone})
		if i := strings.LastIndexByte(zone, '-'); i > 0 {
			attrs = append(attrs, Attribute{Key: "cloud.region", Value: zone[:i]})
		}
	}
	// projects/<number>/machineTypes/e2-medium
	if mt, err := get("instance/machine-type"); err == nil && lastElem(mt) != "" {
		attrs = append(attrs, Attribute{Key: "host.type", Value: lastElem(mt)})
	}
	return attrs, nil
}

func lastElem(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }
