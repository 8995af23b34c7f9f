package export

import (
	"context"
	"fmt"
	"io"
	"sync"

	"go.opentelemetry.io/collector/pdata/ptrace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/tracer"
)

// ConsoleExporter writes each batch as one OTLP/JSON
// ExportTraceServiceRequest per line (JSON Lines), as the OTLP specification
// defines the JSON encoding: hex trace and span ids, integer enums,
// lowerCamelCase field names. Each line can be read back with
// ptrace.JSONUnmarshaler or posted to an OTLP/HTTP JSON endpoint.
type ConsoleExporter struct {
	resource []tracer.Attribute
	scope    exporterConfig

	mu      sync.Mutex
	w       io.Writer
	stopped bool
}

var _ Exporter = (*ConsoleExporter)(nil)

// NewConsole returns an exporter writing OTLP/JSON lines to w with the given
// resource attributes. Writes to w are serialised.
func NewConsole(w io.Writer, resource []tracer.Attribute, opts ...ExporterOption) *ConsoleExporter {
	return &ConsoleExporter{w: w, resource: cloneAttrs(resource), scope: newExporterConfig(opts)}
}

// Export writes spans as one line.
func (c *ConsoleExporter) Export(ctx context.Context, spans []*tracer.SpanData) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rs := ToOTLP(c.resource, c.scope.name, c.scope.version, spans)
	if rs == nil {
		return nil
	}
	line, err := otlpJSON(rs)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errExporterShutdown
	}
	_, err = c.w.Write(line)
	return err
}

// Shutdown stops further writes. It does not close the writer.
func (c *ConsoleExporter) Shutdown(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	return nil
}

// otlpJSON encodes a request as OTLP/JSON followed by a newline. protojson
// would write base64 ids, so the proto bytes go through pdata instead.
func otlpJSON(rs []*tracepb.ResourceSpans) ([]byte, error) {
	raw, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	if err != nil {
		return nil, fmt.Errorf("flowtrace: encode OTLP: %w", err)
	}
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		return nil, fmt.Errorf("flowtrace: decode OTLP: %w", err)
	}
	js, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("flowtrace: encode OTLP/JSON: %w", err)
	}
	return append(js, '\n'), nil
}
