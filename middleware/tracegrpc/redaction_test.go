package tracegrpc_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/tracetest"
)

// Secrets a caller sends as request metadata and a server sends back as
// response headers and trailers. None of the values, nor the raw or
// base64 form of the binary one, may appear in any exported span.
var (
	requestSecrets = map[string]string{
		"authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.cmVkYWN0aW9uLXRlc3Q.c2VjcmV0LXNpZw",
		"cookie":        "session=cookie-secret-7d21f0; csrftoken=csrf-secret-93ab",
		"x-api-token":   "tok_live_custom-secret-51HcQ9",
	}
	requestBinarySecret = "binary-secret-\x00\x01\xfe"
	responseSecrets     = map[string]string{
		"set-cookie":    "session=response-cookie-secret-42aa; HttpOnly",
		"authorization": "Bearer response-header-secret-e4c1",
	}
	trailerSecret = "trailer-token-secret-0b7d"
)

// allSecrets lists every secret string, in every form it could be recorded
// in.
func allSecrets() []string {
	var out []string
	for _, m := range []map[string]string{requestSecrets, responseSecrets} {
		for _, v := range m {
			out = append(out, v)
			// Parts of a composite value ("session=...; csrftoken=...").
			for _, part := range strings.Split(v, ";") {
				if _, val, ok := strings.Cut(strings.TrimSpace(part), "="); ok && len(val) >= 8 {
					out = append(out, val)
				}
			}
			if _, token, ok := strings.Cut(v, " "); ok {
				out = append(out, token)
			}
		}
	}
	return append(out, trailerSecret, requestBinarySecret,
		base64.StdEncoding.EncodeToString([]byte(requestBinarySecret)),
		base64.RawStdEncoding.EncodeToString([]byte(requestBinarySecret)))
}

// secretsOutgoing returns ctx with every request secret as outgoing
// metadata, set both ways a caller can.
func secretsOutgoing(ctx context.Context) context.Context {
	md := metadata.New(requestSecrets)
	md.Set("x-credentials-bin", requestBinarySecret)
	ctx = metadata.NewOutgoingContext(ctx, md)
	return metadata.AppendToOutgoingContext(ctx, "x-api-token", requestSecrets["x-api-token"]+"-appended")
}

// incomingRecorder is a server interceptor, inner to the tracing one, that
// checks the secrets reached the handler (so the test is not vacuous) and
// answers with secret response headers and trailers.
type incomingRecorder struct {
	mu   sync.Mutex
	seen int
}

func (r *incomingRecorder) check(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for k, v := range requestSecrets {
		if got := md.Get(k); len(got) == 0 || got[0] != v {
			return status.Errorf(codes.Internal, "metadata %q did not arrive", k)
		}
	}
	if got := md.Get("x-credentials-bin"); len(got) != 1 || got[0] != requestBinarySecret {
		return status.Error(codes.Internal, "binary metadata did not arrive")
	}
	r.mu.Lock()
	r.seen++
	r.mu.Unlock()
	if err := grpc.SetHeader(ctx, metadata.New(responseSecrets)); err != nil {
		return err
	}
	return grpc.SetTrailer(ctx, metadata.Pairs("x-session-token", trailerSecret))
}

func (r *incomingRecorder) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (r *incomingRecorder) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := r.check(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}

// TestMetadataNeverRecorded sends authorization, cookie, a custom token and
// a binary credential as request metadata, and secret response headers and
// trailers back, through traced unary, streaming, failing and health-check
// calls, with each option that adds to what a span records; no secret value
// appears in any attribute, event, status, link or name of any exported
// span, client or server.
func TestMetadataNeverRecorded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []tracegrpc.Option
	}{
		{"default", nil},
		{"message_events_recovery", []tracegrpc.Option{tracegrpc.WithMessageEvents(), tracegrpc.WithRecovery()}},
		{"public_endpoint_critical", []tracegrpc.Option{
			tracegrpc.WithPublicEndpoint(),
			tracegrpc.WithCriticalOperation(func(string) string { return "checkout" }),
			tracegrpc.WithTrafficSource(tracegrpc.DefaultTrafficSource),
			tracegrpc.WithErrorCodes(codes.PermissionDenied),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, rcv := e2e.NewTracer(t, "svc")
			opts := append([]tracegrpc.Option{tracegrpc.WithTracer(tr)}, tc.opts...)
			rec := &incomingRecorder{}
			serverOpts := append(tracegrpc.ServerOptions(opts...),
				grpc.ChainUnaryInterceptor(rec.unary), grpc.ChainStreamInterceptor(rec.stream))
			e := startEnv(t, serverOpts, tracegrpc.DialOptions(opts...))
			ctx := secretsOutgoing(context.Background())

			// Unary, succeeding: the response secrets reach the caller.
			var hdr, trl metadata.MD
			out, err := e.unary(ctx, "hi", grpc.Header(&hdr), grpc.Trailer(&trl))
			require.NoError(t, err)
			require.Equal(t, "echo:hi", out)
			require.Equal(t, []string{responseSecrets["set-cookie"]}, hdr.Get("set-cookie"))
			require.Equal(t, []string{trailerSecret}, trl.Get("x-session-token"))

			// Unary, failing.
			_, err = e.unary(ctx, fmt.Sprintf("code:%d", codes.PermissionDenied))
			require.Equal(t, codes.PermissionDenied, status.Code(err))

			// Server streaming, read to its end; the token is in the message
			// too: payloads are not recorded either.
			rs, err := e.conn.NewStream(ctx, repeatDesc, mRepeat)
			require.NoError(t, err)
			require.NoError(t, rs.SendMsg(wrapperspb.String(requestSecrets["x-api-token"])))
			require.NoError(t, rs.CloseSend())
			for {
				var m wrapperspb.StringValue
				if err := rs.RecvMsg(&m); err == io.EOF {
					break
				} else {
					require.NoError(t, err)
				}
			}

			// Bidi streaming.
			cs, err := e.conn.NewStream(ctx, chatDesc, mChat)
			require.NoError(t, err)
			require.NoError(t, cs.SendMsg(wrapperspb.String("one")))
			var m wrapperspb.StringValue
			require.NoError(t, cs.RecvMsg(&m))
			require.NoError(t, cs.CloseSend())
			require.ErrorIs(t, cs.RecvMsg(&m), io.EOF)

			// Health check.
			_, err = healthpb.NewHealthClient(e.conn).Check(ctx, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)

			rec.mu.Lock()
			require.Equal(t, 5, rec.seen, "every call carried the secrets to the server")
			rec.mu.Unlock()

			// 5 calls, a client and a server span each.
			spans := e2e.Flush(t, tr, rcv, 10)
			require.Len(t, spans, 10)
			secrets := allSecrets()
			for _, s := range spans {
				for _, field := range spanText(s) {
					for _, secret := range secrets {
						require.NotContainsf(t, field, secret, "span %q (kind %d) records a secret", s.Name, s.Kind)
					}
					lower := strings.ToLower(field)
					for _, key := range []string{"authorization", "cookie", "x-api-token", "x-credentials", "x-session-token"} {
						require.NotContainsf(t, lower, key, "span %q (kind %d) records metadata %q", s.Name, s.Kind, key)
					}
				}
			}
		})
	}
}

// spanText returns every piece of text a span carries: its name, status
// message, and the keys and values of its attributes, events and links.
func spanText(s tracetest.Span) []string {
	out := []string{s.Name, s.Status.Message, s.TraceState}
	attrs := func(m map[string]any) {
		for k, v := range m {
			out = append(out, k, fmt.Sprint(v))
			if b, ok := v.([]byte); ok {
				out = append(out, string(b))
			}
		}
	}
	attrs(s.Attributes)
	for _, ev := range s.Events {
		out = append(out, ev.Name)
		attrs(ev.Attributes)
	}
	for _, l := range s.Links {
		out = append(out, l.TraceState)
		attrs(l.Attributes)
	}
	return out
}
