package source

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Jaeger reads traces from Jaeger's HTTP query API. Its zero value is not
// usable; build it with [NewJaeger].
type Jaeger struct {
	base     *url.URL
	client   *http.Client
	maxBytes int64
}

// JaegerOption configures a [Jaeger] source.
type JaegerOption interface{ applyJaeger(*Jaeger) }

type jaegerOptionFunc func(*Jaeger)

func (f jaegerOptionFunc) applyJaeger(j *Jaeger) { f(j) }

// WithHTTPClient sets the HTTP client (its Timeout still applies; a nil
// client is ignored). The default client has a 30s timeout.
func WithHTTPClient(c *http.Client) JaegerOption {
	return jaegerOptionFunc(func(j *Jaeger) {
		if c != nil {
			j.client = c
		}
	})
}

// WithTimeout bounds each request, including reading its body (default
// 30s; values <= 0 are ignored).
func WithTimeout(d time.Duration) JaegerOption {
	return jaegerOptionFunc(func(j *Jaeger) {
		if d > 0 {
			c := *j.client
			c.Timeout = d
			j.client = &c
		}
	})
}

// WithMaxResponseBytes bounds each response body (default 256 MiB; values
// <= 0 are ignored). A larger response is an error, not a truncation.
func WithMaxResponseBytes(n int64) JaegerOption {
	return jaegerOptionFunc(func(j *Jaeger) {
		if n > 0 {
			j.maxBytes = n
		}
	})
}

// NewJaeger returns a source for the Jaeger query service at baseURL (e.g.
// http://127.0.0.1:16686).
func NewJaeger(baseURL string, opts ...JaegerOption) (*Jaeger, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("jaeger: invalid URL %q: want http(s)://host:port", baseURL)
	}
	j := &Jaeger{base: u, client: &http.Client{Timeout: 30 * time.Second}, maxBytes: 256 << 20}
	for _, o := range opts {
		if o != nil {
			o.applyJaeger(j)
		}
	}
	return j, nil
}

// Query selects traces from Jaeger.
type Query struct {
	Service  string        // required by Jaeger
	Limit    int           // maximum traces; 0 means 100
	Lookback time.Duration // how far back from now; 0 means 1h
}

// Services lists the services Jaeger knows (GET /api/services), sorted.
func (j *Jaeger) Services(ctx context.Context) ([]string, error) {
	var resp struct {
		Data   []string      `json:"data"`
		Errors []jaegerError `json:"errors"`
	}
	if err := j.get(ctx, "/api/services", nil, &resp); err != nil {
		return nil, err
	}
	if err := errorsOf(resp.Errors); err != nil {
		return nil, err
	}
	slices.Sort(resp.Data)
	return resp.Data, nil
}

// Traces fetches the traces of one service (GET /api/traces) and converts
// them to the model.
func (j *Jaeger) Traces(ctx context.Context, q Query) ([]*trace.Span, error) {
	if q.Service == "" {
		return nil, fmt.Errorf("jaeger: a service is required")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Lookback <= 0 {
		q.Lookback = time.Hour
	}
	v := url.Values{}
	v.Set("service", q.Service)
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("lookback", lookback(q.Lookback))
	var resp jaegerResponse
	if err := j.get(ctx, "/api/traces", v, &resp); err != nil {
		return nil, err
	}
	if err := errorsOf(resp.Errors); err != nil {
		return nil, err
	}
	return fromJaeger(resp.Data)
}

// lookback formats d as Jaeger's lookback parameter (e.g. "1h", "90m").
func lookback(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
}

func (j *Jaeger) get(ctx context.Context, path string, q url.Values, into any) error {
	u := *j.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("jaeger: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := j.client.Do(req)
	if err != nil {
		return fmt.Errorf("jaeger: GET %s: %w", u.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, j.maxBytes+1))
	if err != nil {
		return fmt.Errorf("jaeger: GET %s: reading response: %w", u.Redacted(), err)
	}
	if int64(len(body)) > j.maxBytes {
		return fmt.Errorf("jaeger: GET %s: response larger than %d bytes (lower --limit or --lookback)", u.Redacted(), j.maxBytes)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("jaeger: GET %s: %s: %.200s", u.Redacted(), res.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("jaeger: GET %s: invalid JSON: %w", u.Redacted(), err)
	}
	return nil
}

type jaegerError struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	TraceID string `json:"traceID"`
}

func errorsOf(errs []jaegerError) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("jaeger: %d: %s", errs[0].Code, errs[0].Msg)
}

type jaegerResponse struct {
	Data   []jaegerTrace `json:"data"`
	Errors []jaegerError `json:"errors"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []jaegerRef `json:"references"`
	StartTime     int64       `json:"startTime"` // microseconds since the epoch
	Duration      int64       `json:"duration"`  // microseconds
	Tags          []jaegerKV  `json:"tags"`
	ProcessID     string      `json:"processID"`
}

type jaegerRef struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerProcess struct {
	ServiceName string     `json:"serviceName"`
	Tags        []jaegerKV `json:"tags"`
}

type jaegerKV struct {
	Key   string          `json:"key"`
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func (kv jaegerKV) value() any {
	var v any
	switch strings.ToLower(kv.Type) {
	case "int64":
		var n json.Number
		if json.Unmarshal(kv.Value, &n) == nil {
			if i, err := n.Int64(); err == nil {
				return i
			}
		}
		var s string
		if json.Unmarshal(kv.Value, &s) == nil {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
	case "float64":
		var f float64
		if json.Unmarshal(kv.Value, &f) == nil {
			return f
		}
	case "bool":
		var b bool
		if json.Unmarshal(kv.Value, &b) == nil {
			return b
		}
	}
	if json.Unmarshal(kv.Value, &v) == nil {
		if f, ok := v.(float64); ok && f == float64(int64(f)) && strings.ToLower(kv.Type) != "float64" {
			return int64(f)
		}
		return v
	}
	return string(kv.Value)
}

func fromJaeger(traces []jaegerTrace) ([]*trace.Span, error) {
	var out []*trace.Span
	for ti, jt := range traces {
		procs := map[string]struct {
			service string
			res     map[string]any
		}{}
		for id, p := range jt.Processes {
			res := map[string]any{}
			for _, kv := range p.Tags {
				res[kv.Key] = kv.value()
			}
			svc := p.ServiceName
			if svc == "" {
				svc = "unknown"
			}
			res[trace.AttrServiceName] = svc
			procs[id] = struct {
				service string
				res     map[string]any
			}{svc, res}
		}
		for si, js := range jt.Spans {
			where := fmt.Sprintf("data[%d].spans[%d]", ti, si)
			tid := js.TraceID
			if tid == "" {
				tid = jt.TraceID
			}
			tid, ok := padHex(tid, 32)
			if !ok {
				return nil, fmt.Errorf("jaeger: %s.traceID: invalid %q", where, js.TraceID)
			}
			sid, ok := padHex(js.SpanID, 16)
			if !ok {
				return nil, fmt.Errorf("jaeger: %s.spanID: invalid %q", where, js.SpanID)
			}
			p, ok := procs[js.ProcessID]
			if !ok {
				p.service = "unknown"
			}
			start := time.UnixMicro(js.StartTime).UTC()
			s := &trace.Span{
				TraceID:    tid,
				SpanID:     sid,
				Service:    p.service,
				Name:       js.OperationName,
				Start:      start,
				End:        start.Add(time.Duration(js.Duration) * time.Microsecond),
				Attributes: map[string]any{},
				Resource:   p.res,
			}
			for _, kv := range js.Tags {
				v := kv.value()
				switch kv.Key {
				case "span.kind":
					s.Kind = trace.ParseKind(fmt.Sprint(v))
					continue
				case "error":
					if b, ok := v.(bool); ok {
						s.Error = s.Error || b
					} else if fmt.Sprint(v) == "true" {
						s.Error = true
					}
					continue
				case "otel.status_code":
					s.Error = s.Error || fmt.Sprint(v) == "ERROR"
					continue
				case "otel.status_description":
					s.StatusMessage = fmt.Sprint(v)
					continue
				}
				s.Attributes[kv.Key] = v
			}
			// The parent is the first CHILD_OF reference in this trace, else
			// the first FOLLOWS_FROM; the others become links.
			parent := -1
			for _, want := range []string{"CHILD_OF", "FOLLOWS_FROM"} {
				for i, r := range js.References {
					if parent < 0 && strings.EqualFold(r.RefType, want) && (r.TraceID == "" || samehex(r.TraceID, tid)) {
						parent = i
					}
				}
			}
			for i, r := range js.References {
				rs, ok := padHex(r.SpanID, 16)
				if !ok {
					return nil, fmt.Errorf("jaeger: %s.references[%d].spanID: invalid %q", where, i, r.SpanID)
				}
				if i == parent {
					s.ParentID = rs
					continue
				}
				rt, ok := padHex(r.TraceID, 32)
				if !ok {
					rt = tid
				}
				s.Links = append(s.Links, trace.Link{TraceID: rt, SpanID: rs})
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func samehex(a, b string) bool {
	x, _ := padHex(a, 32)
	return x == b
}

// padHex lower-cases a hex id and left-pads it with zeros (Jaeger drops
// leading zeros).
func padHex(s string, n int) (string, bool) {
	s = strings.ToLower(s)
	if s == "" || len(s) > n {
		return "", false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return strings.Repeat("0", n-len(s)) + s, true
}
