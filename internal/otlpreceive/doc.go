// Package otlpreceive is the receiving half of OTLP/HTTP and OTLP/gRPC
// that flowtrace's two receivers share: tracetest.Receiver (and its
// ChaosReceiver) and `flowtrace serve` (analysis/live/serve). It reads a
// request as untrusted input: POST only, application/x-protobuf or
// application/json, identity or gzip, bounded in size both compressed
// and decompressed (413 over HTTP; ResourceExhausted from the gRPC
// server's message bound), decoded with pdata. The receiver decides what
// it keeps: its Accept answers with a partial success or refuses the
// request. Listeners, servers and timeouts stay each receiver's own.
package otlpreceive
