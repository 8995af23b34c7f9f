package promtriage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client queries a Prometheus HTTP API (/api/v1/query).
type Client struct {
	base *url.URL
	http *http.Client
	// MaxBytes bounds each response body; a longer one is an error.
	MaxBytes int64
}

// Default bounds of a [Client].
const (
	DefaultTimeout  = 30 * time.Second
	DefaultMaxBytes = 64 << 20
)

// NewClient returns a client of the Prometheus at rawURL (http or https,
// optionally with a path prefix such as /prometheus). timeout bounds each
// request (DefaultTimeout when <= 0).
func NewClient(rawURL string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, fmt.Errorf("prometheus URL: %v (want http://host:port)", redactErr(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q: want http://host:port or https://host:port", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("prometheus URL %q: no query or fragment, please (just the server's base URL)", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &Client{base: u, http: &http.Client{Timeout: timeout, Transport: tr}, MaxBytes: DefaultMaxBytes}, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// redactErr keeps a URL parse error from printing a password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// String is the server's URL without its password.
func (c *Client) String() string { return c.base.Redacted() }

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// apiResponse is the envelope of every /api/v1 answer.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

type vectorData struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	} `json:"result"`
}

// Query evaluates an instant-vector PromQL expression at t. Samples whose
// value is not a finite number are left out and counted in skipped.
func (c *Client) Query(ctx context.Context, expr string, t time.Time) (out []Sample, skipped int, err error) {
	u := *c.base
	u.Path += "/api/v1/query"
	q := url.Values{"query": {expr}}
	if !t.IsZero() {
		q.Set("time", strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("prometheus %s: %v", c, redactErr(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("prometheus %s: reading the response: %v", c, err)
	}
	if int64(len(body)) > c.MaxBytes {
		return nil, 0, fmt.Errorf("prometheus %s: response larger than %d bytes (narrow the query or raise --max-bytes)", c, c.MaxBytes)
	}
	out, skipped, err = decodeVector(body, resp.StatusCode)
	if err != nil {
		return nil, 0, fmt.Errorf("prometheus %s: query %s: %w", c, expr, err)
	}
	return out, skipped, nil
}

// decodeVector decodes an /api/v1/query answer holding an instant vector.
// Samples whose value is not a finite number are left out and counted.
func decodeVector(body []byte, status int) (out []Sample, skipped int, err error) {
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil || r.Status == "" {
		return nil, 0, fmt.Errorf("HTTP %d, not a Prometheus API answer: %q", status, clip(body))
	}
	if r.Status != "success" {
		return nil, 0, fmt.Errorf("%q: %q", clip([]byte(r.ErrorType)), clip([]byte(r.Error)))
	}
	var d vectorData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return nil, 0, fmt.Errorf("malformed data: %s", clip([]byte(err.Error())))
	}
	if d.ResultType != "vector" {
		return nil, 0, fmt.Errorf("want an instant vector, got %q", clip([]byte(d.ResultType)))
	}
	for _, x := range d.Result {
		s, ok := x.Value[1].(string)
		if !ok {
			skipped++
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			skipped++
			continue
		}
		out = append(out, Sample{Labels: x.Metric, Value: v})
	}
	return out, skipped, nil
}

// clip shortens a body quoted in an error.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
