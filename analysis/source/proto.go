package source

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowtrace/flowtrace/analysis/trace"
)

// maxProtoBytes bounds a protobuf file; OTLP requests are far smaller.
const maxProtoBytes = 1 << 30

// maxProtoField bounds one span or one resource in a protobuf file: what
// is held in memory at once.
const maxProtoField = 64 << 20

// ChunkSpans is how many spans of a protobuf request [Stream] decodes at a
// time.
const ChunkSpans = 2048

// chunkBytes also ends a protobuf chunk early when its spans are large.
const chunkBytes = 4 << 20

// Field numbers of the OTLP trace messages (opentelemetry-proto's
// collector/trace/v1 and trace/v1).
const (
	fieldRequestResourceSpans = 1 // ExportTraceServiceRequest.resource_spans
	fieldResource             = 1 // ResourceSpans.resource
	fieldScopeSpans           = 2 // ResourceSpans.scope_spans
	fieldSpans                = 2 // ScopeSpans.spans
)

// protoReader walks protobuf fields on a buffered stream, so a request of
// any size is read span by span instead of as one buffer.
type protoReader struct {
	r   *bufio.Reader
	pos int64
	// at, when the input is an uncompressed file, reads ahead without
	// moving r: pdata writes a ResourceSpans' resource after its spans,
	// and at finds it before the spans are streamed.
	at io.ReaderAt
}

var errProtoTruncated = errors.New("truncated")

func (p *protoReader) uvarint() (uint64, error) {
	var x uint64
	for i := 0; i < 10; i++ {
		b, err := p.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errProtoTruncated
			}
			return 0, err
		}
		p.pos++
		x |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, errors.New("varint overflow")
}

// tag reads a field tag; io.EOF only at a clean end of the stream.
func (p *protoReader) tag() (protowire.Number, protowire.Type, error) {
	if _, err := p.r.Peek(1); errors.Is(err, io.EOF) {
		return 0, 0, io.EOF
	}
	v, err := p.uvarint()
	if err != nil {
		return 0, 0, err
	}
	num, typ := protowire.DecodeTag(v)
	if num < protowire.MinValidNumber {
		return 0, 0, fmt.Errorf("invalid field number %d", num)
	}
	return num, typ, nil
}

// length reads the length of a bytes field and checks it against the
// enclosing message's end and limit.
func (p *protoReader) length(end, limit int64) (int64, error) {
	v, err := p.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(end-p.pos) {
		return 0, errProtoTruncated
	}
	if int64(v) > limit {
		return 0, fmt.Errorf("a field of %d bytes (more than %d)", v, limit)
	}
	return int64(v), nil
}

func (p *protoReader) read(n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errProtoTruncated
		}
		return nil, err
	}
	p.pos += n
	return b, nil
}

func (p *protoReader) discard(n int64) error {
	d, err := p.r.Discard(int(n))
	p.pos += int64(d)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errProtoTruncated
		}
		return err
	}
	return nil
}

// skip skips the value of a field of type typ.
func (p *protoReader) skip(typ protowire.Type, end int64) error {
	switch typ {
	case protowire.VarintType:
		_, err := p.uvarint()
		return err
	case protowire.Fixed32Type:
		return p.discard(4)
	case protowire.Fixed64Type:
		return p.discard(8)
	case protowire.BytesType:
		n, err := p.length(end, end)
		if err != nil {
			return err
		}
		return p.discard(n)
	}
	return fmt.Errorf("unsupported wire type %d", typ)
}

// protoChunk collects the spans of one resource until they are decoded.
type protoChunk struct {
	resource []byte // the encoded Resource, nil when absent
	spans    []byte // encoded ScopeSpans.spans fields
	n        int
}

// request wraps the chunk as an ExportTraceServiceRequest with one
// ResourceSpans holding one ScopeSpans: all the model needs (the scope is
// not part of it).
func (c *protoChunk) request() []byte {
	var rs []byte
	if c.resource != nil {
		rs = protowire.AppendTag(rs, fieldResource, protowire.BytesType)
		rs = protowire.AppendBytes(rs, c.resource)
	}
	rs = protowire.AppendTag(rs, fieldScopeSpans, protowire.BytesType)
	rs = protowire.AppendBytes(rs, c.spans)
	req := protowire.AppendTag(nil, fieldRequestResourceSpans, protowire.BytesType)
	return protowire.AppendBytes(req, rs)
}

func streamProto(br *bufio.Reader, at io.ReaderAt, name string, fn func([]*trace.Span) error) error {
	p := &protoReader{r: br, at: at}
	fail := func(err error) error {
		return fmt.Errorf("%s: invalid OTLP protobuf (want one ExportTraceServiceRequest per file) at byte %d: %v", name, p.pos, err)
	}
	var um ptrace.ProtoUnmarshaler
	flush := func(c *protoChunk) error {
		if c.n == 0 {
			return nil
		}
		td, err := um.UnmarshalTraces(c.request())
		if err != nil {
			return fail(err)
		}
		c.spans, c.n = c.spans[:0], 0
		spans, err := FromPtrace(td)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return fn(spans)
	}
	for {
		num, typ, err := p.tag()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fail(err)
		}
		if p.pos > maxProtoBytes {
			return fmt.Errorf("%s: protobuf file larger than %d bytes", name, maxProtoBytes)
		}
		if num != fieldRequestResourceSpans || typ != protowire.BytesType {
			if err := p.skip(typ, maxProtoBytes); err != nil {
				return fail(err)
			}
			continue
		}
		n, err := p.length(maxProtoBytes, maxProtoBytes)
		if err != nil {
			return fail(err)
		}
		if err := p.resourceSpans(p.pos+n, flush, fail); err != nil {
			return err
		}
	}
}

// resourceSpans streams one ResourceSpans message ending at end. When the
// resource comes after the spans (pdata's order) and the input cannot be
// read ahead (gzip, a pipe), the spans are held until the resource is
// known.
func (p *protoReader) resourceSpans(end int64, flush func(*protoChunk) error, fail func(error) error) error {
	c := &protoChunk{}
	seenResource := false
	if p.at != nil {
		res, found, err := p.findResource(p.pos, end)
		if err != nil {
			return fail(err)
		}
		c.resource, seenResource = res, found
		if !found {
			seenResource = true // none to wait for
		}
	}
	for p.pos < end {
		num, typ, err := p.tag()
		if err != nil {
			return fail(err)
		}
		switch {
		case num == fieldResource && typ == protowire.BytesType && p.at == nil:
			n, err := p.length(end, maxProtoField)
			if err != nil {
				return fail(err)
			}
			if c.resource, err = p.read(n); err != nil {
				return fail(err)
			}
			seenResource = true
		case num == fieldScopeSpans && typ == protowire.BytesType:
			n, err := p.length(end, end)
			if err != nil {
				return fail(err)
			}
			if err := p.scopeSpans(p.pos+n, c, func() error {
				if !seenResource {
					return nil // hold the spans: the resource may follow
				}
				return flush(c)
			}, fail); err != nil {
				return err
			}
		default:
			if err := p.skip(typ, end); err != nil {
				return fail(err)
			}
		}
	}
	if p.pos != end {
		return fail(errProtoTruncated)
	}
	return flush(c)
}

// scopeSpans appends the spans of one ScopeSpans message ending at end to
// c, calling full whenever the chunk is full.
func (p *protoReader) scopeSpans(end int64, c *protoChunk, full func() error, fail func(error) error) error {
	for p.pos < end {
		num, typ, err := p.tag()
		if err != nil {
			return fail(err)
		}
		if num != fieldSpans || typ != protowire.BytesType {
			if err := p.skip(typ, end); err != nil {
				return fail(err)
			}
			continue
		}
		n, err := p.length(end, maxProtoField)
		if err != nil {
			return fail(err)
		}
		c.spans = protowire.AppendTag(c.spans, fieldSpans, protowire.BytesType)
		c.spans = protowire.AppendVarint(c.spans, uint64(n))
		start := len(c.spans)
		c.spans = append(c.spans, make([]byte, n)...)
		if _, err := io.ReadFull(p.r, c.spans[start:]); err != nil {
			return fail(errProtoTruncated)
		}
		p.pos += n
		c.n++
		if c.n >= ChunkSpans || len(c.spans) >= chunkBytes {
			if err := full(); err != nil {
				return err
			}
		}
	}
	if p.pos != end {
		return fail(errProtoTruncated)
	}
	return nil
}

// findResource scans the fields of the ResourceSpans in [start, end) with
// p.at, skipping over the spans, and returns the last resource field (as a
// protobuf parser would keep it, merging aside).
func (p *protoReader) findResource(start, end int64) (res []byte, found bool, err error) {
	var hdr [2 * binary.MaxVarintLen64]byte
	for off := start; off < end; {
		n, err := p.at.ReadAt(hdr[:min(int64(len(hdr)), end-off)], off)
		if n == 0 && err != nil {
			return nil, false, errProtoTruncated
		}
		b := hdr[:n]
		num, typ, tl := protowire.ConsumeTag(b)
		if tl < 0 {
			return nil, false, protowire.ParseError(tl)
		}
		off += int64(tl)
		b = b[tl:]
		switch typ {
		case protowire.VarintType:
			_, vl := protowire.ConsumeVarint(b)
			if vl < 0 {
				return nil, false, protowire.ParseError(vl)
			}
			off += int64(vl)
		case protowire.Fixed32Type:
			off += 4
		case protowire.Fixed64Type:
			off += 8
		case protowire.BytesType:
			l, vl := protowire.ConsumeVarint(b)
			if vl < 0 {
				return nil, false, protowire.ParseError(vl)
			}
			off += int64(vl)
			if l > uint64(end-off) {
				return nil, false, errProtoTruncated
			}
			if num == fieldResource {
				if l > maxProtoField {
					return nil, false, fmt.Errorf("a resource of %d bytes (more than %d)", l, maxProtoField)
				}
				res = make([]byte, l)
				if _, err := p.at.ReadAt(res, off); err != nil {
					return nil, false, errProtoTruncated
				}
				found = true
			}
			off += int64(l)
		default:
			return nil, false, fmt.Errorf("unsupported wire type %d", typ)
		}
		if off > end {
			return nil, false, errProtoTruncated
		}
	}
	return res, found, nil
}
