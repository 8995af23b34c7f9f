package export

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	kgzip "github.com/klauspost/compress/gzip"
)

// gzipLevel is the compression level of flowtrace's own OTLP requests
// (gRPC and HTTP). The body is ordinary gzip (RFC 1952) whatever the level;
// the level only trades CPU in the exporting process against bytes on the
// wire. BestSpeed maximised spans per CPU-second in bench BenchmarkExport
// (docs/performance.md) while compressing OTLP spans about as well as
// grpc-go's default level does.
const gzipLevel = kgzip.BestSpeed

// gzipWriters holds klauspost gzip writers (a few hundred KiB of state
// each), reset onto each request's output.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := kgzip.NewWriterLevel(io.Discard, gzipLevel)
	return w
}}

// gzipTo compresses p to w as one gzip member.
func gzipTo(w io.Writer, p []byte) error {
	zw := gzipWriters.Get().(*kgzip.Writer)
	zw.Reset(w)
	_, err := zw.Write(p)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	// Drop the reference to w (an output buffer) before pooling.
	zw.Reset(io.Discard)
	gzipWriters.Put(zw)
	return err
}

// gzipBytes returns p gzip-compressed.
func gzipBytes(p []byte) ([]byte, error) {
	var b bytes.Buffer
	// OTLP spans compress to about a fifth; one growth at most beyond it.
	b.Grow(len(p)/4 + 64)
	if err := gzipTo(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// gzipReaders holds klauspost gzip readers for gRPC answers.
var gzipReaders sync.Pool

// grpcGzip and grpcGunzip compress flowtrace's OTLP/gRPC requests with
// klauspost's gzip and decompress the (gzip) answers, for flowtrace's
// connection only.
//
// grpc-go puts a compressor's name in the grpc-encoding header and the
// server looks that exact name up in its own registry: a compressor
// registered under any other name than "gzip" would not be understood, and
// registering one as "gzip" (encoding.RegisterCompressor) would replace the
// process-wide codec that every other gRPC client and server of the
// program uses. So these are given to this connection alone through the
// per-connection compressor options (grpc.WithCompressor,
// grpc.WithDecompressor), whose Type is the header value: "gzip".
type grpcGzip struct{}

func (grpcGzip) Type() string { return "gzip" }

// Do compresses p to w.
func (grpcGzip) Do(w io.Writer, p []byte) error { return gzipTo(w, p) }

type grpcGunzip struct{}

func (grpcGunzip) Type() string { return "gzip" }

// Do decompresses one answer from r. An answer is a few bytes (a partial
// success); one larger than MaxOTLPResponseBytes decompressed fails
// instead of growing memory (a gzip bomb from a hostile collector).
func (grpcGunzip) Do(r io.Reader) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*kgzip.Reader)
	var err error
	if zr == nil {
		zr, err = kgzip.NewReader(r)
	} else {
		err = zr.Reset(r)
	}
	if err != nil {
		return nil, fmt.Errorf("flowtrace: gzip answer: %w", err)
	}
	defer gzipReaders.Put(zr)
	out, err := io.ReadAll(io.LimitReader(zr, MaxOTLPResponseBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("flowtrace: gzip answer: %w", err)
	case len(out) > MaxOTLPResponseBytes:
		return nil, fmt.Errorf("flowtrace: gzip answer larger than %d bytes", MaxOTLPResponseBytes)
	}
	return out, nil
}
