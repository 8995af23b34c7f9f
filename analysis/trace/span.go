package trace

import (
	"math"
	"strconv"
	"time"

	"github.com/flowtrace/flowtrace/semconv/stability"
)

// Kind is a span kind; the values are OTLP's.
type Kind int8

// Span kinds.
const (
	KindUnspecified Kind = 0
	KindInternal    Kind = 1
	KindServer      Kind = 2
	KindClient      Kind = 3
	KindProducer    Kind = 4
	KindConsumer    Kind = 5
)

var kindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

// String returns the lower-case kind name ("server", "client", ...).
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind maps a kind name (any case, with or without a "SPAN_KIND_"
// prefix, as OpenTracing's span.kind tag or OTLP write it) to a Kind.
func ParseKind(s string) Kind {
	switch lower(s) {
	case "server", "span_kind_server", "rpc-server":
		return KindServer
	case "client", "span_kind_client", "rpc-client":
		return KindClient
	case "producer", "span_kind_producer":
		return KindProducer
	case "consumer", "span_kind_consumer":
		return KindConsumer
	case "internal", "span_kind_internal":
		return KindInternal
	}
	return KindUnspecified
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Well-known attribute keys.
const (
	AttrSamplingProbability = "sampling.probability"
	AttrCriticalOperation   = "critical_operation"
	AttrTrafficSource       = "traffic_source"
	AttrTeam                = "team"
	AttrFlowID              = "flow_id"
	AttrServiceName         = "service.name"
)

// Span is one span in the neutral model. Ids are lower-case hex; a root has
// ParentID "". Attribute values are string, bool, int64, float64, []byte,
// []any or map[string]any.
type Span struct {
	TraceID  string
	SpanID   string
	ParentID string

	// Service is the resource's service.name ("unknown" when absent).
	Service string
	Name    string
	Kind    Kind

	Start, End time.Time

	// Error is true when the span's status is an error (OTLP status code 2,
	// or Jaeger's error=true tag).
	Error         bool
	StatusMessage string

	Attributes map[string]any
	Resource   map[string]any
	Links      []Link
}

// Link points at another span, e.g. a producer span a consumer batch links to.
type Link struct {
	TraceID string
	SpanID  string
}

// Duration returns End-Start, or 0 when End is before Start.
func (s *Span) Duration() time.Duration {
	d := s.End.Sub(s.Start)
	if d < 0 {
		return 0
	}
	return d
}

// Attr returns a span attribute, falling back to a resource attribute.
//
// The tools read both tag vocabularies (OTEL_SEMCONV_STABILITY_OPT_IN, package
// semconv/stability): a key the span does not carry is looked up under its
// aliases in the other one, for the span's kind. Str("http.status_code")
// finds http.response.status_code, Str("db.system.name") finds db.type or
// db.system, Str("url.full") a client's http.url. A fleet mid-migration,
// half of its services on each vocabulary, thus gets one service graph and
// one RED table.
func (s *Span) Attr(key string) (any, bool) {
	if v, ok := s.Attributes[key]; ok {
		return v, true
	}
	if v, ok := s.Resource[key]; ok {
		return v, true
	}
	for _, a := range stability.Aliases(key, stabilityKind[s.Kind&7]) {
		if v, ok := a.From(s.Attributes); ok {
			return v, true
		}
	}
	return nil, false
}

// stabilityKind maps a Kind (0..5) to the mapping table's kinds.
var stabilityKind = [8]stability.Kind{KindServer: stability.Server, KindClient: stability.Client,
	KindProducer: stability.Producer, KindConsumer: stability.Consumer}

// Str returns an attribute (span first, then resource) as a string; "" when
// absent. Numbers and bools are formatted.
func (s *Span) Str(key string) string {
	v, _ := s.Attr(key)
	return strOf(v)
}

// Probability returns the sampling.probability attribute and whether it is
// present and valid (0 < p <= 1).
func (s *Span) Probability() (float64, bool) {
	v, ok := s.Attr(AttrSamplingProbability)
	if !ok {
		return 1, false
	}
	var p float64
	switch x := v.(type) {
	case float64:
		p = x
	case int64:
		p = float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 1, false
		}
		p = f
	default:
		return 1, false
	}
	if !(p > 0 && p <= 1) || math.IsNaN(p) {
		return 1, false
	}
	return p, true
}

// Weight returns how many spans this sampled span stands for: 1/p for
// sampling.probability p, 1 when absent or invalid.
func (s *Span) Weight() float64 {
	p, _ := s.Probability()
	return 1 / p
}

// CriticalOperation returns the critical_operation attribute.
func (s *Span) CriticalOperation() string { return s.Str(AttrCriticalOperation) }

// TrafficSource returns the traffic_source attribute.
func (s *Span) TrafficSource() string { return s.Str(AttrTrafficSource) }

// Team returns the owning team (span attribute, then resource attribute).
func (s *Span) Team() string { return s.Str(AttrTeam) }

// Receives reports whether the span is where a service receives work: a
// server or consumer span.
func (s *Span) Receives() bool { return s.Kind == KindServer || s.Kind == KindConsumer }

// Messages returns how many messages a consumer span handled: its
// messaging.batch.message_count, else its number of links (a batch links
// to each message's producer span), else 1.
func (s *Span) Messages() int {
	n := 1
	if v, ok := s.Attr("messaging.batch.message_count"); ok {
		if c, ok := v.(int64); ok && c > 0 && c < 1<<31 {
			n = int(c)
		}
	}
	return max(n, len(s.Links))
}
