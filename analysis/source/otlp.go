package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Format is a trace file format.
type Format int

// Formats. FormatAuto detects the format from the content.
const (
	FormatAuto Format = iota
	FormatOTLPJSON
	FormatOTLPProto
)

// Progress reports how far a read has got.
type Progress struct {
	Name  string // file name or URL
	Bytes int64  // bytes read so far (uncompressed)
	Spans int    // spans decoded so far
	Done  bool   // the last report for this source
}

// Option configures a read.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	format   Format
	progress func(Progress)
	every    int64
	maxDoc   int64
	at       io.ReaderAt // the input file, for reading ahead
}

// DefaultMaxDocumentBytes bounds one OTLP/JSON document (one line of a
// JSON Lines file). Exporters send requests of a few MiB at most.
const DefaultMaxDocumentBytes = 64 << 20

func newConfig(opts []Option) config {
	c := config{every: 8 << 20, maxDoc: DefaultMaxDocumentBytes}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithFormat skips detection and reads the given format.
func WithFormat(f Format) Option { return optionFunc(func(c *config) { c.format = f }) }

// WithMaxDocumentBytes bounds the size of one OTLP/JSON document
// ([DefaultMaxDocumentBytes] by default; n <= 0 means no bound). A larger
// document is an error naming its line, not an unbounded allocation.
func WithMaxDocumentBytes(n int64) Option {
	return optionFunc(func(c *config) { c.maxDoc = n })
}

// WithProgress calls fn after about every `every` bytes read (8 MiB when
// every <= 0) and once at the end. A nil fn is ignored. For JSON, fn runs
// on the goroutine that reads the input, not the caller's; Spans then
// counts the spans handed to the caller so far.
func WithProgress(fn func(Progress), every int64) Option {
	return optionFunc(func(c *config) {
		if fn == nil {
			return
		}
		c.progress = fn
		if every > 0 {
			c.every = every
		}
	})
}

// ReadFile reads a whole trace file into memory (see the package
// documentation for formats). Errors name the file and, for JSON, the line.
// For large files use [StreamFile], which holds one chunk at a time.
func ReadFile(path string, opts ...Option) ([]*trace.Span, error) {
	var out []*trace.Span
	err := StreamFile(path, func(spans []*trace.Span) error {
		out = append(out, spans...)
		return nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Read reads trace data from r into memory; name is used in errors and
// progress.
func Read(r io.Reader, name string, opts ...Option) ([]*trace.Span, error) {
	var out []*trace.Span
	err := Stream(r, name, func(spans []*trace.Span) error {
		out = append(out, spans...)
		return nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StreamFile is [Stream] on the file at path.
func StreamFile(path string, fn func([]*trace.Span) error, opts ...Option) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// An uncompressed protobuf file can be read ahead (see streamProto).
	return Stream(f, path, fn, append(opts, optionFunc(func(c *config) { c.at = f }))...)
}

// Stream reads trace data from r incrementally and calls fn with the spans
// of each chunk, in input order: one OTLP/JSON document, or up to
// [ChunkSpans] spans of a protobuf request. It holds one chunk at a time,
// so memory does not grow with the input (a JSON document is bounded by
// [WithMaxDocumentBytes]). fn may keep the slice. An error from fn stops
// the read and is returned as it is; name is used in errors and progress.
func Stream(r io.Reader, name string, fn func([]*trace.Span) error, opts ...Option) error {
	cfg := newConfig(opts)
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		cfg.at = nil // offsets are in the decompressed stream
	}
	format := cfg.format
	if format == FormatAuto {
		format = detect(br)
	}
	cr := &countingReader{r: br, cfg: &cfg, name: name}
	count := func(spans []*trace.Span) error {
		cr.spans.Add(int64(len(spans)))
		return fn(spans)
	}
	var err error
	if format == FormatOTLPJSON {
		err = streamJSON(cr, name, count)
	} else {
		err = streamProto(bufio.NewReaderSize(cr, 64<<10), cfg.at, name, count)
	}
	if err != nil {
		return err
	}
	cr.report(true)
	return nil
}

func detect(br *bufio.Reader) Format {
	for i := 1; i <= 4096; i++ {
		b, err := br.Peek(i)
		if len(b) < i {
			_ = err
			return FormatOTLPJSON // empty or blank: nothing to read either way
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return FormatOTLPJSON
		}
		return FormatOTLPProto
	}
	return FormatOTLPJSON
}

// countingReader counts bytes for progress.
type countingReader struct {
	r     io.Reader
	cfg   *config
	name  string
	n     int64
	next  int64
	spans atomic.Int64 // added by the consumer, read by progress reports on the reading goroutine
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.cfg.progress != nil && c.n >= c.next {
		if c.next > 0 {
			c.report(false)
		}
		c.next = c.n + c.cfg.every
	}
	return n, err
}

func (c *countingReader) report(done bool) {
	if c.cfg.progress != nil {
		c.cfg.progress(Progress{Name: c.name, Bytes: c.n, Spans: int(c.spans.Load()), Done: done})
	}
}

// docReader splits a stream into JSON documents by matching braces outside
// strings, counting lines as it goes. It does not validate: pdata's parser
// does, and a document it rejects is checked again by encoding/json for a
// precise message. That is one pass over the bytes instead of
// encoding/json's two (scan, then copy into a RawMessage) before pdata's.
type docReader struct {
	br   *bufio.Reader
	line int // line of the next byte, 1-based
	buf  []byte
	max  int64
}

var errNotObject = errors.New("not an object")

// next returns the next document and the line it starts on; io.EOF after
// the last. A document that ends early is io.ErrUnexpectedEOF; one larger
// than max is errDocTooLarge. The slice is valid until the next call.
func (d *docReader) next() (doc []byte, line int, err error) {
	for {
		c, err := d.br.ReadByte()
		if err != nil {
			return nil, d.line, err
		}
		switch c {
		case '\n':
			d.line++
			continue
		case ' ', '\t', '\r':
			continue
		}
		if c != '{' {
			d.buf = append(d.buf[:0], c)
			peek, _ := d.br.Peek(19)
			d.buf = append(d.buf, peek...)
			return d.buf, d.line, errNotObject
		}
		break
	}
	line = d.line
	d.buf = append(d.buf[:0], '{')
	depth, inStr, esc := 1, false, false
	for {
		if d.br.Buffered() == 0 {
			if _, err := d.br.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					return d.buf, line, io.ErrUnexpectedEOF
				}
				return d.buf, line, err
			}
		}
		b, _ := d.br.Peek(d.br.Buffered())
		end := -1
		// Most of a document is strings: inside one, jump to the next
		// quote or backslash. Their positions are kept until passed, so
		// no byte is searched twice.
		quote, slash := -1, -1
		next := func(from int, c byte) int {
			if j := bytes.IndexByte(b[from:], c); j >= 0 {
				return from + j
			}
			return len(b)
		}
	scan:
		for i := 0; i < len(b); i++ {
			if inStr {
				if esc {
					esc = false
					continue
				}
				if quote < i {
					quote = next(i, '"')
				}
				if slash < i {
					slash = next(i, '\\')
				}
				switch {
				case slash < quote:
					i, esc = slash, true
				case quote < len(b):
					i, inStr = quote, false
				default:
					i = len(b) // the string goes on in the next chunk
				}
				continue
			}
			switch b[i] {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					end = i
					break scan
				}
			}
		}
		n := len(b)
		if end >= 0 {
			n = end + 1
		}
		d.line += bytes.Count(b[:n], []byte{'\n'})
		d.buf = append(d.buf, b[:n]...)
		_, _ = d.br.Discard(n)
		if d.max > 0 && int64(len(d.buf)) > d.max {
			return d.buf, line, errDocTooLarge
		}
		if end >= 0 {
			return d.buf, line, nil
		}
	}
}

var errDocTooLarge = errors.New("document too large")

// syntaxError describes what encoding/json finds wrong in doc, which
// starts on line, or returns "" when doc is valid JSON or only ends early.
func syntaxError(doc []byte, line int) (string, int) {
	var v json.RawMessage
	err := json.Unmarshal(doc, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset < int64(len(doc)) {
		off := max(0, min(int(se.Offset)-1, len(doc)))
		return se.Error(), line + bytes.Count(doc[:off], []byte("\n"))
	}
	return "", line
}

// decoded is one document's spans, or the error decoding it.
type decoded struct {
	spans []*trace.Span
	err   error
}

type docJob struct {
	doc  []byte
	line int
	res  chan decoded
}

// streamJSON splits documents on this goroutine, decodes them on up to
// GOMAXPROCS (at most 4) workers, and hands the spans to fn in input order.
// pdata's parser and the model conversion are most of the cost of a read,
// so on two cores this nearly halves the time. At most 3 documents per
// worker are in flight.
func streamJSON(cr *countingReader, name string, fn func([]*trace.Span) error) error {
	d := &docReader{br: bufio.NewReaderSize(cr, 256<<10), line: 1, max: cr.cfg.maxDoc}
	workers := min(runtime.GOMAXPROCS(0), 4)
	ordered := make(chan *docJob, 2*workers)
	work := make(chan *docJob, workers)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var splitErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(work)
		for {
			doc, line, err := d.next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					splitErr = splitError(name, d, doc, line, err)
				}
				return
			}
			j := &docJob{doc: bytes.Clone(doc), line: line, res: make(chan decoded, 1)}
			select {
			case ordered <- j:
			case <-done:
				return
			}
			select {
			case work <- j:
			case <-done:
				return
			}
		}
	}()
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var um ptrace.JSONUnmarshaler
			fd := newFastDecoder()
			for j := range work {
				j.res <- decodeDoc(fd, &um, name, j.doc, j.line)
			}
		}()
	}
	var err error
	for j := range ordered {
		r := <-j.res
		if r.err == nil {
			r.err = fn(r.spans)
		}
		if r.err != nil {
			err = r.err
			break
		}
	}
	close(done)
	for j := range ordered { // let the splitter finish; workers drain work
		_ = j
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return splitErr
}

func splitError(name string, d *docReader, doc []byte, line int, err error) error {
	switch {
	case errors.Is(err, errNotObject):
		return fmt.Errorf("%s:%d: want an OTLP ExportTraceServiceRequest object, got %.20s", name, line, doc)
	case errors.Is(err, errDocTooLarge):
		return fmt.Errorf("%s:%d: a JSON document larger than %d bytes (raise the limit, or split the file into one request per line)", name, line, d.max)
	case errors.Is(err, io.ErrUnexpectedEOF):
		if msg, at := syntaxError(doc, line); msg != "" {
			return fmt.Errorf("%s:%d: invalid JSON: %s", name, at, msg)
		}
		return fmt.Errorf("%s:%d: truncated JSON document", name, d.line)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// decodeDoc decodes one document: by the fast decoder when it knows the
// document's form, else by pdata, whose errors name what is wrong.
func decodeDoc(fd *fastDecoder, um *ptrace.JSONUnmarshaler, name string, doc []byte, line int) decoded {
	if spans, ok := fd.decode(doc); ok {
		return decoded{spans: spans}
	}
	td, err := um.UnmarshalTraces(doc)
	if err != nil {
		if msg, at := syntaxError(doc, line); msg != "" {
			return decoded{err: fmt.Errorf("%s:%d: invalid JSON: %s", name, at, msg)}
		}
		return decoded{err: fmt.Errorf("%s:%d: invalid OTLP/JSON: %v", name, line, err)}
	}
	spans, err := FromPtrace(td)
	if err != nil {
		return decoded{err: fmt.Errorf("%s:%d: %w", name, line, err)}
	}
	return decoded{spans: spans}
}

// FromPtrace converts pdata traces to the model. It fails, naming the field,
// on a span without a trace id or span id.
func FromPtrace(td ptrace.Traces) ([]*trace.Span, error) {
	out := make([]*trace.Span, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes().AsRaw()
		service := "unknown"
		if v, ok := res[trace.AttrServiceName].(string); ok && v != "" {
			service = v
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sps := sss.At(j).Spans()
			for k := 0; k < sps.Len(); k++ {
				sp := sps.At(k)
				if sp.TraceID().IsEmpty() {
					return nil, fmt.Errorf("resourceSpans[%d].scopeSpans[%d].spans[%d].traceId: missing or zero", i, j, k)
				}
				if sp.SpanID().IsEmpty() {
					return nil, fmt.Errorf("resourceSpans[%d].scopeSpans[%d].spans[%d].spanId: missing or zero", i, j, k)
				}
				s := &trace.Span{
					TraceID:       sp.TraceID().String(),
					SpanID:        sp.SpanID().String(),
					Service:       service,
					Name:          sp.Name(),
					Kind:          trace.Kind(sp.Kind()),
					Start:         sp.StartTimestamp().AsTime(),
					End:           sp.EndTimestamp().AsTime(),
					Error:         sp.Status().Code() == ptrace.StatusCodeError,
					StatusMessage: sp.Status().Message(),
					Attributes:    sp.Attributes().AsRaw(),
					Resource:      res,
				}
				if !sp.ParentSpanID().IsEmpty() {
					s.ParentID = sp.ParentSpanID().String()
				}
				links := sp.Links()
				for l := 0; l < links.Len(); l++ {
					ln := links.At(l)
					s.Links = append(s.Links, trace.Link{TraceID: ln.TraceID().String(), SpanID: ln.SpanID().String()})
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}
