package tracelog

import (
	"context"
	"log/slog"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// Attribute keys added to every record.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
	FlowIDKey  = "flow_id"
)

// PropagationContexter is implemented by span contexts that expose their
// W3C ids, as flowtrace's tracer's do.
type PropagationContexter interface {
	PropagationContext() propagation.SpanContext
}

// NewHandler returns a handler that adds trace_id, span_id and flow_id from
// the record's context at the top level and passes the record to h.
//
// Attributes added before the first WithGroup are handed to h (so h can
// pre-format them); groups opened with WithGroup, and attributes added
// inside them, are kept by the wrapper and re-nested on each record, so
// that the ids stay at the top level.
func NewHandler(h slog.Handler) slog.Handler {
	if th, ok := h.(*handler); ok {
		return th
	}
	return &handler{inner: h}
}

type group struct {
	name  string
	attrs []slog.Attr
}

type handler struct {
	inner  slog.Handler // with the top-level attributes applied
	groups []group      // open groups, outermost first
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.groups) == 0 {
		return &handler{inner: h.inner.WithAttrs(attrs)}
	}
	gs := append([]group(nil), h.groups...)
	last := &gs[len(gs)-1]
	last.attrs = append(append([]slog.Attr(nil), last.attrs...), attrs...)
	return &handler{inner: h.inner, groups: gs}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	gs := make([]group, len(h.groups), len(h.groups)+1)
	copy(gs, h.groups)
	return &handler{inner: h.inner, groups: append(gs, group{name: name})}
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	var ids [3]slog.Attr
	n := 0
	if sp := opentracing.SpanFromContext(ctx); sp != nil {
		if pc, ok := sp.Context().(PropagationContexter); ok {
			if sc := pc.PropagationContext(); sc.IsValid() {
				ids[n] = slog.String(TraceIDKey, sc.TraceID.String())
				ids[n+1] = slog.String(SpanIDKey, sc.SpanID.String())
				n += 2
			}
		}
	}
	if id := flowid.FromContext(ctx); id != "" {
		ids[n] = slog.String(FlowIDKey, id)
		n++
	}
	if n == 0 && len(h.groups) == 0 {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(ids[:n]...)
	if len(h.groups) == 0 {
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(a)
			return true
		})
		return h.inner.Handle(ctx, out)
	}
	// Innermost group: its attributes, then the record's.
	inner := h.groups[len(h.groups)-1]
	attrs := make([]slog.Attr, 0, len(inner.attrs)+r.NumAttrs())
	attrs = append(attrs, inner.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	nested := groupAttr(inner.name, attrs)
	for i := len(h.groups) - 2; i >= 0; i-- {
		g := h.groups[i]
		as := make([]slog.Attr, 0, len(g.attrs)+1)
		as = append(as, g.attrs...)
		if nested.Key != "" {
			as = append(as, nested)
		}
		nested = groupAttr(g.name, as)
	}
	if nested.Key != "" {
		out.AddAttrs(nested)
	}
	return h.inner.Handle(ctx, out)
}

// groupAttr returns a group attribute, or the zero Attr when the group would
// be empty (a handler must not output empty groups).
func groupAttr(name string, attrs []slog.Attr) slog.Attr {
	nonEmpty := false
	for _, a := range attrs {
		if !a.Equal(slog.Attr{}) {
			nonEmpty = true
			break
		}
	}
	if !nonEmpty {
		return slog.Attr{}
	}
	return slog.Attr{Key: name, Value: slog.GroupValue(attrs...)}
}
