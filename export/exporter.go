package export

import (
	"context"
	"sync/atomic"

	"github.com/flowtrace/flowtrace/tracer"
)

// Exporter sends finished spans somewhere. A Batcher calls Export from one
// goroutine at a time. Export and Shutdown must honour ctx, and Export must
// not keep spans after it returns. Shutdown is called once, after the last
// Export returned, except when the Batcher's Shutdown context ends first:
// then the Batcher cancels the Export in progress and calls Shutdown with
// the ended context without waiting for Export to return.
type Exporter interface {
	Export(ctx context.Context, spans []*tracer.SpanData) error
	Shutdown(ctx context.Context) error
}

// DiscardExporter drops every span and reports success. A Batcher in front
// of it therefore counts the spans as Exported; the DiscardExporter counts
// them itself in Discarded, so "exported to nowhere" stays visible.
type DiscardExporter struct {
	n atomic.Int64
}

var _ Exporter = (*DiscardExporter)(nil)

// NewDiscard returns an Exporter that drops spans (the "none" exporter).
func NewDiscard() *DiscardExporter { return &DiscardExporter{} }

// Export counts and drops spans.
func (d *DiscardExporter) Export(_ context.Context, spans []*tracer.SpanData) error {
	d.n.Add(int64(len(spans)))
	return nil
}

// Shutdown does nothing.
func (d *DiscardExporter) Shutdown(context.Context) error { return nil }

// Discarded returns how many spans were dropped.
func (d *DiscardExporter) Discarded() int64 { return d.n.Load() }
