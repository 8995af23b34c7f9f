package trace

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Integrity counts what is broken or corrected in trace data. Every tool
// reports it, so an answer built on broken traces says so. The zero value
// is ready; [Integrity.Add] merges counts of several traces.
type Integrity struct {
	Traces int `json:"traces"`
	Spans  int `json:"spans"`
	// NoRoot counts traces with no span without a parent: only fragments
	// were recorded, so the request itself is unknown.
	NoRoot int `json:"traces_without_root"`
	// Orphans counts spans whose parent id names a span missing from the
	// trace: the tops of fragments.
	Orphans int `json:"orphan_spans"`
	// UnpairedClients counts client spans with no server side in the data
	// that do not name an uninstrumented remote system either (see
	// [IsUnpairedClient]).
	UnpairedClients int `json:"unpaired_client_spans"`
	// UnpairedServers counts server spans whose parent (the caller's client
	// span) is missing from the trace.
	UnpairedServers int `json:"unpaired_server_spans"`
	// SkewShifted counts spans moved by clock-skew correction
	// ([CorrectSkew]); SkewBeyondMax the corrections larger than the
	// maximum, not applied.
	SkewShifted   int `json:"clock_skew_shifted_spans"`
	SkewBeyondMax int `json:"clock_skew_beyond_max"`
}

// Add adds o's counts to i.
func (i *Integrity) Add(o Integrity) {
	i.Traces += o.Traces
	i.Spans += o.Spans
	i.NoRoot += o.NoRoot
	i.Orphans += o.Orphans
	i.UnpairedClients += o.UnpairedClients
	i.UnpairedServers += o.UnpairedServers
	i.SkewShifted += o.SkewShifted
	i.SkewBeyondMax += o.SkewBeyondMax
}

// Clean reports whether nothing was broken or corrected.
func (i Integrity) Clean() bool {
	return i.NoRoot == 0 && i.Orphans == 0 && i.UnpairedClients == 0 && i.UnpairedServers == 0 &&
		i.SkewShifted == 0 && i.SkewBeyondMax == 0
}

// String says in one line what is broken or corrected ("" when clean).
func (i Integrity) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(i.NoRoot, "traces without a root span")
	add(i.Orphans, "orphan spans (parent missing)")
	add(i.UnpairedClients, "client spans without a server side")
	add(i.UnpairedServers, "server spans without their client span")
	add(i.SkewShifted, "spans shifted for clock skew")
	add(i.SkewBeyondMax, "clock skews beyond the maximum, not corrected")
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s in %d traces", strings.Join(parts, ", "), i.Traces)
}

// Known reports whether a service name appears in the data.
type Known func(service string) bool

// Services returns the set of service names in traces, as a [Known].
func Services(traces []*Trace) Known {
	set := map[string]bool{}
	for _, t := range traces {
		for _, s := range t.Spans {
			set[s.Service] = true
		}
	}
	return func(name string) bool { return set[name] }
}

// Correct prepares one assembled trace for analysis: it corrects clock
// skew ([CorrectSkew] with max) and counts what is broken ([Integrity]).
// known says which services appear anywhere in the data (nil: none), which
// decides whether a client span without a server side is a call to an
// uninstrumented system or an unpaired call ([IsUnpairedClient]). It
// needs nothing but the one trace, so a streaming reader can call it on
// each trace as it is assembled.
func Correct(t *Trace, max time.Duration, known Known) (*Trace, Integrity) {
	t, st := CorrectSkew(t, max)
	in := Integrity{Traces: 1, Spans: len(t.Spans), SkewShifted: st.Shifted, SkewBeyondMax: st.BeyondMax}
	if t.Root() == nil && len(t.Spans) > 0 {
		in.NoRoot = 1
	}
	for _, s := range t.Spans {
		orphan := !IsRootID(s.ParentID) && t.Parent(s) == nil
		if orphan {
			in.Orphans++
			if s.Kind == KindServer {
				in.UnpairedServers++
			}
		}
		if s.Kind == KindClient && IsUnpairedClient(t, s, known) {
			in.UnpairedClients++
		}
	}
	return t, in
}

// CorrectAll is [Correct] on every trace with [DefaultMaxSkew] and the
// services of traces as the known ones; it returns the corrected traces
// and the summed counts.
//
// Unlike [Correct], which sees one trace, it also pairs client spans with
// the server spans of other traces that link to them: a public endpoint
// (tracehttp.WithPublicEndpoint) starts a new trace linked to its caller,
// so that caller's client span is not unpaired.
func CorrectAll(traces []*Trace) ([]*Trace, Integrity) {
	known := Services(traces)
	out := make([]*Trace, len(traces))
	var sum Integrity
	entries := map[Link]bool{} // client spans a root server span of another trace links to
	for i, t := range traces {
		var in Integrity
		out[i], in = Correct(t, DefaultMaxSkew, known)
		sum.Add(in)
		if r := out[i].Root(); r != nil && r.Kind == KindServer {
			for _, l := range r.Links {
				if l.TraceID != t.ID {
					entries[l] = true
				}
			}
		}
	}
	if len(entries) > 0 {
		for _, t := range out {
			for _, s := range t.Spans {
				if s.Kind == KindClient && entries[Link{TraceID: t.ID, SpanID: s.SpanID}] && IsUnpairedClient(t, s, known) {
					sum.UnpairedClients--
				}
			}
		}
	}
	return out, sum
}

// ServerSide returns the children of client span s that are the server
// side of its call: those where a service receives work, and any child in
// another service (a tracer that sets no span kind).
func ServerSide(t *Trace, s *Span) []*Span {
	var out []*Span
	for _, c := range t.Children(s) {
		if c.Receives() || c.Service != s.Service {
			out = append(out, c)
		}
	}
	return out
}

// IsUnpairedClient reports whether client span s is an unpaired call: it
// has no server side in the trace, and its peer attributes do not name an
// uninstrumented remote system ([PeerOf] says system=false, or the name is
// a service that appears in the data, so its server span is what is
// missing).
func IsUnpairedClient(t *Trace, s *Span, known Known) bool {
	if len(ServerSide(t, s)) > 0 {
		return false
	}
	name, system := PeerOf(s)
	return !system || (known != nil && known(name))
}

// PeerOf returns the remote side a client span names, and whether that
// name identifies a remote system (a database, cache, broker or named
// host) rather than only an RPC interface or an address. In order:
//
//   - peer.service: the name, a system;
//   - db.system.name or db.system, with db.namespace or db.name: e.g.
//     "postgresql orders", a system;
//   - messaging.system, with messaging.destination.name: e.g. "rabbitmq
//     invoices", a system;
//   - server.address or net.peer.name when it is a host name, not an IP
//     address or localhost: a system;
//   - otherwise rpc.service, then server.address, net.peer.name,
//     peer.hostname, net.peer.ip, peer.address: names only (a bare host
//     address or an interface name), not a system.
func PeerOf(s *Span) (name string, system bool) {
	if v := s.Str("peer.service"); v != "" {
		return v, true
	}
	db := s.Str("db.system.name")
	if db == "" {
		db = s.Str("db.system")
	}
	if db != "" {
		ns := s.Str("db.namespace")
		if ns == "" {
			ns = s.Str("db.name")
		}
		return strings.TrimSpace(db + " " + ns), true
	}
	if m := s.Str("messaging.system"); m != "" {
		return strings.TrimSpace(m + " " + s.Str("messaging.destination.name")), true
	}
	for _, k := range []string{"server.address", "net.peer.name"} {
		if v := s.Str(k); v != "" && !bareHost(v) {
			return v, true
		}
	}
	for _, k := range []string{"rpc.service", "server.address", "net.peer.name", "peer.hostname", "net.peer.ip", "peer.address"} {
		if v := s.Str(k); v != "" {
			return v, false
		}
	}
	return "", false
}

// bareHost reports whether a host names no system: an IP address (with or
// without a port) or localhost.
func bareHost(h string) bool {
	if ap, err := netip.ParseAddrPort(h); err == nil && ap.IsValid() {
		return true
	}
	host := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return host == "localhost" || strings.HasPrefix(host, "localhost:")
}

// Corrector is [Correct] as a [Step] for traces assembled one at a time: it
// sums the counts of every trace it corrects in Integrity. Its zero value
// uses [DefaultMaxSkew] and, with Known nil, the services seen so far
// (this trace's included) as the known ones, so a call to a service whose
// first span comes later in the stream counts as a call to an
// uninstrumented system rather than an unpaired one. Not safe for
// concurrent use.
type Corrector struct {
	MaxSkew   time.Duration
	Known     Known
	Integrity Integrity

	seen map[string]bool
}

// Step corrects t and adds its counts.
func (c *Corrector) Step(t *Trace) *Trace {
	known := c.Known
	if known == nil {
		if c.seen == nil {
			c.seen = map[string]bool{}
		}
		for _, s := range t.Spans {
			c.seen[s.Service] = true
		}
		known = func(name string) bool { return c.seen[name] }
	}
	t, in := Correct(t, c.MaxSkew, known)
	c.Integrity.Add(in)
	return t
}
