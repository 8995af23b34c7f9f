package source

import (
	"context"
	"encoding/json"
	"errors"
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
	// Service names the service whose traces to fetch: Jaeger finds a
	// trace by its spans of that service, so traces that never touch it are
	// not returned. Empty means every service Jaeger knows (but its own),
	// each trace fetched once.
	Service string
	// Start and End bound the window (span start times, as Jaeger indexes
	// them). A zero End means now; a zero Start means End - Lookback.
	Start, End time.Time
	Lookback   time.Duration // 0 means 1h
	// Limit is the number of traces asked for per request (Jaeger's limit
	// parameter); 0 means 100. A window that returns that many is split in
	// two and each half fetched again, until every window is complete.
	Limit int
	// MaxTraces stops the search when it holds this many distinct traces
	// (0 means DefaultMaxTraces), and MaxRequests once it has made this
	// many requests (0 means DefaultMaxRequests): the result is then
	// partial, and says so.
	MaxTraces, MaxRequests int
}

// Defaults of [Query].
const (
	DefaultMaxTraces   = 20000
	DefaultMaxRequests = 1000
)

// Result is what [Jaeger.Search] found.
type Result struct {
	Spans    []*trace.Span
	Traces   int       // distinct traces
	Requests int       // requests to /api/traces
	Start    time.Time // the window searched
	End      time.Time
	// Partial is true when the search stopped before every window was
	// complete; Reason says why (a cap, or more than Limit traces starting
	// in one microsecond). Spans newer in the window are fetched first, so
	// a partial result lacks the oldest part.
	Partial bool
	Reason  string
}

// ErrPartial is wrapped by the error [Jaeger.Traces] returns with the
// spans of a partial result.
var ErrPartial = errors.New("jaeger: partial result")

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

// Traces is [Jaeger.Search] returning only the spans; for a partial result
// it returns them with an error wrapping [ErrPartial].
func (j *Jaeger) Traces(ctx context.Context, q Query) ([]*trace.Span, error) {
	r, err := j.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.Partial {
		return r.Spans, fmt.Errorf("%w: %s", ErrPartial, r.Reason)
	}
	return r.Spans, nil
}

// Search fetches the traces of the query's window (GET /api/traces with
// start and end in microseconds) and converts them to the model. It pages
// by splitting: a window that returns Limit traces (or a response over the
// size bound) is fetched again as two halves, newest first, and traces are
// de-duplicated by id (a trace whose spans fall in both halves, or that
// several services' queries return, is kept once, its spans merged by span
// id). It stops at the caps of [Query], with Result.Partial set.
func (j *Jaeger) Search(ctx context.Context, q Query) (*Result, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Lookback <= 0 {
		q.Lookback = time.Hour
	}
	if q.MaxTraces <= 0 {
		q.MaxTraces = DefaultMaxTraces
	}
	if q.MaxRequests <= 0 {
		q.MaxRequests = DefaultMaxRequests
	}
	if q.End.IsZero() {
		q.End = time.Now()
	}
	if q.Start.IsZero() {
		q.Start = q.End.Add(-q.Lookback)
	}
	if q.End.Before(q.Start) {
		return nil, fmt.Errorf("jaeger: window end %s before start %s", q.End.Format(time.RFC3339), q.Start.Format(time.RFC3339))
	}
	services := []string{q.Service}
	if q.Service == "" {
		all, err := j.Services(ctx)
		if err != nil {
			return nil, err
		}
		services = slices.DeleteFunc(all, func(s string) bool { return s == "jaeger-query" || s == "jaeger" })
	}
	r := &Result{Start: q.Start, End: q.End}
	seen := map[string]map[string]bool{} // trace id -> span ids
	type window struct{ from, to int64 } // microseconds, both included
	capped := false
	for _, svc := range services {
		stack := []window{{q.Start.UnixMicro(), q.End.UnixMicro()}}
		for len(stack) > 0 && !r.Partial {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(seen) >= q.MaxTraces {
				r.Partial, r.Reason = true, fmt.Sprintf("stopped at %d traces (the trace cap) with part of the window not fetched", len(seen))
				break
			}
			if r.Requests >= q.MaxRequests {
				r.Partial, r.Reason = true, fmt.Sprintf("stopped after %d requests (the request cap)", r.Requests)
				break
			}
			data, err := j.fetch(ctx, svc, w.from, w.to, q.Limit)
			r.Requests++
			tooLarge := errors.Is(err, errTooLarge)
			if err != nil && !tooLarge {
				return nil, err
			}
			full := tooLarge || len(data) >= q.Limit
			// A full window is fetched again as two halves: keep its traces
			// only when it cannot be split, so that what a cap keeps is the
			// newest complete part of the window.
			if !tooLarge && (!full || w.to <= w.from) {
				spans, err := fromJaeger(data)
				if err != nil {
					return nil, err
				}
				for _, s := range spans {
					ids := seen[s.TraceID]
					if ids == nil && len(seen) >= q.MaxTraces {
						capped = true
						continue
					}
					if ids == nil {
						ids = map[string]bool{}
						seen[s.TraceID] = ids
					}
					if !ids[s.SpanID] {
						ids[s.SpanID] = true
						r.Spans = append(r.Spans, s)
					}
				}
			}
			if capped {
				r.Partial, r.Reason = true, fmt.Sprintf("stopped at %d traces (the trace cap) with part of the window not fetched", len(seen))
				break
			}
			if full {
				if w.to <= w.from {
					why := fmt.Sprintf("%d or more traces", q.Limit)
					if tooLarge {
						why = "a response over the size bound"
					}
					r.Partial, r.Reason = true, fmt.Sprintf("service %s: %s start in the microsecond %s; raise the limit", svc, why, time.UnixMicro(w.from).UTC().Format(time.RFC3339Nano))
					break
				}
				mid := w.from + (w.to-w.from)/2
				stack = append(stack, window{w.from, mid}, window{mid + 1, w.to}) // newer half first
			}
		}
		if r.Partial {
			break
		}
	}
	r.Traces = len(seen)
	return r, nil
}

// fetch is one GET /api/traces for a service and a window in microseconds.
func (j *Jaeger) fetch(ctx context.Context, service string, from, to int64, limit int) ([]jaegerTrace, error) {
	v := url.Values{}
	v.Set("service", service)
	v.Set("start", strconv.FormatInt(from, 10))
	v.Set("end", strconv.FormatInt(to, 10))
	v.Set("limit", strconv.Itoa(limit))
	var resp jaegerResponse
	if err := j.get(ctx, "/api/traces", v, &resp); err != nil {
		return nil, err
	}
	if err := errorsOf(resp.Errors); err != nil {
		return nil, err
	}
	return resp.Data, nil
}

// errTooLarge marks a response over the size bound, which Search answers
// by splitting the window.
var errTooLarge = errors.New("response too large")

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
		return fmt.Errorf("jaeger: GET %s: %w: larger than %d bytes (lower --limit or --lookback)", u.Redacted(), errTooLarge, j.maxBytes)
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
