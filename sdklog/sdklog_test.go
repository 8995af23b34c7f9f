package sdklog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func lines(b *bytes.Buffer) []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Level
		ok   bool
	}{
		{"error", LevelError, true}, {"WARN", LevelWarn, true}, {"warning", LevelWarn, true},
		{" info ", LevelInfo, true}, {"Debug", LevelDebug, true},
		{"trace", DefaultLevel, false}, {"", DefaultLevel, false}, {"3", DefaultLevel, false},
	} {
		got, err := ParseLevel(tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.ok, err == nil, tc.in)
	}
}

func TestLevels(t *testing.T) {
	for _, level := range []Level{LevelError, LevelWarn, LevelInfo, LevelDebug} {
		var b bytes.Buffer
		l := New(&b, level)
		l.Errorf("e %d", 1)
		l.Warnf("w %d", 2)
		l.Infof("i %d", 3)
		l.Debugf("d %d", 4)
		want := []string{"flowtrace: error: e 1", "flowtrace: warning: w 2", "flowtrace: i 3", "flowtrace: debug: d 4"}[:level+1]
		require.Equal(t, want, lines(&b), level.String())
	}
	var nilLogger *Logger
	nilLogger.Errorf("nothing")
	nilLogger.Handle(errors.New("x"))
	require.False(t, nilLogger.Enabled(LevelError))
}

func TestEscape(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, LevelDebug)
	l.Warnf("value %s", "a\nflowtrace: error: forged\r\x1b[31mred\x00\xff\u2028end")
	got := lines(&b)
	require.Len(t, got, 1, "one line, whatever the value holds")
	require.Equal(t, `flowtrace: warning: value a\nflowtrace: error: forged\r\x1b[31mred\x00\xff\u2028end`, got[0])
}

func TestLineBounded(t *testing.T) {
	var b bytes.Buffer
	New(&b, LevelInfo).Infof("%s", strings.Repeat("é", MaxLineBytes))
	got := lines(&b)
	require.Len(t, got, 1)
	require.LessOrEqual(t, len(got[0]), MaxLineBytes+3)
	require.True(t, strings.HasSuffix(got[0], "..."))
}

func TestRateLimit(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	l := New(&b, LevelInfo, WithRateLimit(3, time.Second))
	l.now = func() time.Time { return now }
	for i := range 10 {
		l.Errorf("export failed %d", i)
	}
	l.Warnf("other format") // its own budget
	require.Len(t, lines(&b), 4)
	now = now.Add(time.Second)
	l.Errorf("export failed %d", 10)
	got := lines(&b)
	require.Len(t, got, 5)
	require.Equal(t, "flowtrace: error: export failed 10 (7 similar line(s) suppressed)", got[4])

	// The table of formats is bounded.
	for i := range 3 * maxKeys {
		l.Infof("format " + strings.Repeat("x", i%700) + "%d")
	}
	require.LessOrEqual(t, len(l.keys), maxKeys+1)
}

func TestSecretsNeverPrinted(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, LevelDebug)
	l.AddSecrets("S3CRET-TOKEN", "hunter2-pw", "ab") // "ab" is too short to redact
	for _, msg := range []string{
		`header value "S3CRET-TOKEN" is bad`,
		`input=authorization:Bearer SECRET-TOKEN-123`,
		`"value"="Bearer%20OTHER-TOKEN%zz"`,
		`parse "http://user:PW-IN-URL@[::1": bad`,
		`url https://alice:hunter2-pw@collector:4318/v1/traces`,
		`Authorization: Basic dXNlcjpwYXNzd29yZA==`,
		`api-key=KEY-123456 token: TOK-98765 password=PASS-4321`,
		`escaped S3CRET%2DTOKEN? no: S3CRET-TOKEN in "S3CRET-TOKEN"`,
	} {
		l.Warnf("%s", msg)
	}
	out := b.String()
	for _, secret := range []string{"S3CRET-TOKEN", "SECRET-TOKEN-123", "OTHER-TOKEN", "PW-IN-URL", "hunter2-pw", "dXNlcjpwYXNzd29yZA", "KEY-123456", "TOK-98765", "PASS-4321"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "[redacted]")
	require.Contains(t, out, "collector:4318", "what is not secret stays readable")
}

func TestLogrBridge(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, LevelInfo)
	l.AddSecrets("planted-secret")
	lg := l.Logr().WithName("otlptrace").WithValues("endpoint", "http://u:pw-xyz@h:1")
	lg.V(1).Info("invalid header", "value", "planted-secret\nforged")
	lg.V(4).Info("info line", "n", 3)
	lg.V(8).Info("debug line, not written at info")
	lg.Error(errors.New("boom\x1b[0m"), "export failed")
	got := lines(&b)
	require.Len(t, got, 3, "%q", got)
	require.Equal(t, `flowtrace: warning: opentelemetry otlptrace: invalid header endpoint="http://[redacted]@h:1" value="[redacted]\nforged"`, got[0])
	require.Equal(t, `flowtrace: opentelemetry otlptrace: info line endpoint="http://[redacted]@h:1" n=3`, got[1])
	require.Contains(t, got[2], `flowtrace: error: opentelemetry otlptrace: export failed error="boom\x1b[0m"`)
	require.False(t, lg.V(8).Enabled())
}

func TestHandle(t *testing.T) {
	var b bytes.Buffer
	New(&b, LevelError).Handle(errors.New("exporter: Bearer abcdefgh"))
	require.Equal(t, []string{"flowtrace: error: opentelemetry: exporter: Bearer [redacted]"}, lines(&b))
}

func TestSlogBridge(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, LevelWarn)
	lg := slog.New(l.Slog()).With("mode", "warn").WithGroup("tag")
	lg.Warn("unregistered tag", "key", "k\nforged", "n", 3)
	lg.Info("not written at warn")
	require.Equal(t, []string{`flowtrace: warning: unregistered tag mode="warn" tag.key="k\nforged" tag.n=3`}, lines(&b))
}

// TestToHandler: a program's slog handler gets the same lines, escaped,
// scrubbed and rate-limited, without the text prefix, at its own level.
func TestToHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})
	l := ToHandler(h, LevelDebug, WithRateLimit(1, time.Hour))
	l.AddSecrets("S3CRET-VALUE")
	require.False(t, l.Enabled(LevelInfo), "the handler's level applies too")
	l.Infof("not shown")
	l.Warnf("bad %s", "S3CRET-VALUE\nforged")
	l.Warnf("bad %s", "again")
	got := lines(&buf)
	require.Len(t, got, 1, "rate-limited per format")
	require.Contains(t, got[0], `level=WARN msg="bad [redacted]\\nforged" component=flowtrace`)
	require.Nil(t, ToHandler(nil, LevelDebug).h, "a nil handler discards")
	require.False(t, ToHandler(nil, LevelDebug).Enabled(LevelError))
}
