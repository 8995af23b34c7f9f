package flowtrace

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// secretsChildEnv makes the test binary run secretsChild instead of the
// tests: a real process whose whole standard error the parent reads.
const secretsChildEnv = "FLOWTRACE_TEST_SECRETS_CHILD"

// secretsChild starts flowtrace from the real environment, finishes a few
// spans and shuts down, as a service would.
func secretsChild() {
	tracing := Start(context.Background())
	for i := range 5 {
		s := tracing.Tracer().StartSpan("checkout")
		s.SetTag("i", i)
		s.Finish()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = tracing.Shutdown(ctx)
	st := tracing.Stats().Export
	fmt.Printf("finished=%d exported=%d dropped=%d unconfirmed=%d\n", tracing.Stats().Tracer.Finished, st.Exported, st.Dropped(), st.Unconfirmed)
}

// TestNoSecretInStderr runs a process per malformed (or merely secret)
// setting, at OTEL_LOG_LEVEL=debug, and greps everything it wrote to
// standard error and everything the collector received for the planted
// secrets. On 030e853 the OTLP clients re-read these variables and
// printed header values and endpoint passwords through the otel logger.
func TestNoSecretInStderr(t *testing.T) {
	rcv := newReceiver(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "client.key")
	require.NoError(t, os.WriteFile(keyFile, []byte("-----BEGIN PRIVATE KEY-----\nS3CRET-KEYFILE\n-----END PRIVATE KEY-----\n"), 0o600))
	secrets := []string{"S3CRET-TOKEN", "SECRET-TOKEN-123", "S3CRET-PW", "S3CRET-TENANT", "S3CRET-VALID", "S3CRET-KEYFILE", "S3CRET-USER"}
	grpcEndpoint := rcv.GRPCEndpoint()
	hostPort := strings.TrimPrefix(grpcEndpoint, "http://")

	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"header with a bad percent-escape", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20S3CRET-TOKEN%zz"}},
		{"header without =", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization:Bearer SECRET-TOKEN-123"}},
		{"header with a control character", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-tenant=S3CRET-TENANT%01"}},
		{"two headers, one bad", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "x-ok=1,authorization=Bearer S3CRET-TOKEN%"}},
		{"unparsable endpoint with a password", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://S3CRET-USER:S3CRET-PW@[::1"}},
		{"traces endpoint with a password and a bad scheme", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://S3CRET-USER:S3CRET-PW@" + hostPort}},
		{"endpoint with a password", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://S3CRET-USER:S3CRET-PW@" + hostPort}},
		{"http endpoint with a password and a query token", map[string]string{
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://S3CRET-USER:S3CRET-PW@" + hostPort + "/v1/traces?token=S3CRET-TOKEN",
		}},
		{"valid secret header, dead collector", map[string]string{
			"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer S3CRET-VALID", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
		}},
		{"valid secret header, bad compression", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=S3CRET-VALID", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}},
		{"client key file with a bad certificate", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://" + hostPort, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": keyFile, "OTEL_EXPORTER_OTLP_CLIENT_KEY": keyFile,
			"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer S3CRET-VALID",
		}},
		{"client key without certificate", map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_KEY": keyFile, "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Basic S3CRET-VALID"}},
		{"secret header, unknown log level", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer S3CRET-VALID", "OTEL_LOG_LEVEL": "verbose"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv.Reset()
			env := []string{secretsChildEnv + "=1"}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "FLOWTRACE_") {
					env = append(env, kv)
				}
			}
			vars := map[string]string{
				"OTEL_LOG_LEVEL": "debug", "OTEL_EXPORTER_OTLP_ENDPOINT": grpcEndpoint, "OTEL_SERVICE_NAME": "secrets",
				"OTEL_BSP_SCHEDULE_DELAY": "10", "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
			}
			for k, v := range tc.env {
				vars[k] = v
			}
			for k, v := range vars {
				env = append(env, k+"="+v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = env
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
			t.Logf("stderr:\n%s\nstdout: %s", stderr.String(), stdout.String())
			require.Contains(t, stdout.String(), "finished=", "the child ran")
			require.NotEmpty(t, stderr.String(), "the child logged (debug level)")
			received := fmt.Sprintf("%+v", rcv.Spans())
			for _, secret := range secrets {
				require.NotContains(t, stderr.String(), secret, "a secret on stderr")
				require.NotContains(t, stdout.String(), secret)
				require.NotContains(t, received, secret, "a secret in an exported span")
			}
		})
	}
}
