package owners_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/internal/safefile"
)

const good = `# who answers for what
services:
  catalog: {team: catalog-team, channel: "#catalog-oncall"}
  payment-gateway:
    team: payments
    channel: https://pager.example.com/payments
  edge:
    team: Storefront Team
`

func TestParse(t *testing.T) {
	m, err := owners.Parse([]byte(good), "owners.yaml")
	require.NoError(t, err)
	require.Equal(t, 3, m.Len())
	require.Equal(t, []string{"catalog", "edge", "payment-gateway"}, m.Services())
	o, ok := m.Lookup("payment-gateway")
	require.True(t, ok)
	require.Equal(t, owners.Owner{Team: "payments", Channel: "https://pager.example.com/payments", Source: owners.SourceFile}, o)
	o, _ = m.Lookup("edge")
	require.Equal(t, "Storefront Team", o.Team)
	require.Empty(t, o.Channel)
	_, ok = m.Lookup("cart")
	require.False(t, ok)
	require.Equal(t, "owners.yaml", m.Name())
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty ownership file"},
		{"not a mapping", "- a\n", "f:1: want a mapping with a services key"},
		{"unknown top key", "service: {}\n", `f:1: unknown key "service" (want services)`},
		{"services twice", "services: {}\nservices: {}\n", "f:2: services: given twice"},
		{"services a list", "services: [a]\n", "f:1: services: want a mapping"},
		{"no services", "{}\n", "f:1: services: required"},
		{"owner a string", "services:\n  a: team-a\n", "f:2: services.a: want a mapping"},
		{"missing team", "services:\n  a: {channel: x}\n", "f:2: services.a.team: required"},
		{"unknown field", "services:\n  a: {team: t, pager: x}\n", `f:2: services.a: unknown key "pager" (want team, channel)`},
		{"field twice", "services:\n  a: {team: t, team: u}\n", "f:2: services.a.team: given twice"},
		{"service twice", "services:\n  a: {team: t}\n  a: {team: u}\n", "f:3: services.a: given twice"},
		{"team a list", "services:\n  a: {team: [t]}\n", "f:2: services.a.team: want a single string"},
		{"team null", "services:\n  a: {team: ~}\n", "f:2: services.a.team: want a single string"},
		{"team empty", "services:\n  a: {team: ''}\n", `services.a.team: "": empty`},
		{"team too long", "services:\n  a: {team: " + strings.Repeat("t", owners.MaxTeamLen+1) + "}\n", "longer than 128 bytes"},
		{"team blank edges", "services:\n  a: {team: ' t'}\n", "leading or trailing blanks"},
		{"team newline", "services:\n  a: {team: \"t\\nu\"}\n", "character U+000A not allowed"},
		{"team escape", "services:\n  a: {team: \"t\\e[31m\"}\n", "character U+001B not allowed"},
		{"channel with blank", "services:\n  a: {team: t, channel: 'a b'}\n", "character U+0020 not allowed"},
		{"service too long", "services:\n  " + strings.Repeat("s", owners.MaxServiceLen+1) + ": {team: t}\n", "longer than 255 bytes"},
		{"service NUL", "services:\n  \"a\\0\": {team: t}\n", "character U+0000 not allowed"},
		{"invalid UTF-8", "services:\n  a\xff: {team: t}\n", "f"},
		{"service key a list", "services:\n  [a]: {team: t}\n", "f:2: services: want a service name"},
		{"alias bomb", "a: &a [*a, *a]\nservices: *a\n", "f:"},
		{"bad yaml", "services: {a: {team: t}\n", "f: yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := owners.Parse([]byte(tc.in), "f")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestTooManyServices(t *testing.T) {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range owners.MaxServices + 1 {
		b.WriteString("  s")
		b.WriteString(itoa(i))
		b.WriteString(": {team: t}\n")
	}
	_, err := owners.Parse([]byte(b.String()), "f")
	require.ErrorContains(t, err, "more than 20000 services")
}

func itoa(i int) string {
	var d []byte
	for {
		d = append([]byte{byte('0' + i%10)}, d...)
		if i /= 10; i == 0 {
			return string(d)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "owners.yaml")
	require.NoError(t, os.WriteFile(path, []byte(good), 0o644))
	m, err := owners.Load(path)
	require.NoError(t, err)
	require.Equal(t, 3, m.Len())

	_, err = owners.Load(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = owners.Load(dir)
	require.ErrorIs(t, err, safefile.ErrNotRegular)

	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte("services: {}\n"+strings.Repeat("#\n", owners.MaxFileSize)), 0o644))
	_, err = owners.Load(big)
	require.ErrorIs(t, err, safefile.ErrTooLarge)

	// A FIFO with no writer would block a plain open for ever.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		_, err = owners.Load(fifo)
		require.ErrorIs(t, err, safefile.ErrNotRegular)
	} else if !errors.Is(err, syscall.ENOSYS) {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	m, err := owners.Parse([]byte(good), "f")
	require.NoError(t, err)
	var none *owners.Map
	for _, tc := range []struct {
		name      string
		m         *owners.Map
		svc, attr string
		want      owners.Owner
	}{
		{"file only", m, "catalog", "", owners.Owner{Team: "catalog-team", Channel: "#catalog-oncall", Source: owners.SourceFile}},
		{"file and same attribute", m, "catalog", "catalog-team", owners.Owner{Team: "catalog-team", Channel: "#catalog-oncall", Source: owners.SourceFile}},
		{"file wins over attribute", m, "catalog", "old-team", owners.Owner{Team: "catalog-team", Channel: "#catalog-oncall", Source: owners.SourceFile, Conflict: "old-team"}},
		{"attribute for unlisted service", m, "cart", "carts", owners.Owner{Team: "carts", Source: owners.SourceAttribute}},
		{"nobody", m, "cart", "", owners.Owner{}},
		{"no file: attribute", none, "catalog", "cat", owners.Owner{Team: "cat", Source: owners.SourceAttribute}},
		{"no file, no attribute", none, "catalog", "", owners.Owner{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.m.Resolve(tc.svc, tc.attr))
		})
	}
	require.Zero(t, none.Len())
	require.Nil(t, none.Services())
}

// FuzzParse: any input gives a map or an error, never a panic, and every
// accepted name is within its bounds. The seed corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("services: {a: {team: t}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := owners.Parse(b, "fuzz")
		if err != nil {
			return
		}
		for _, s := range m.Services() {
			o, ok := m.Lookup(s)
			if !ok || s == "" || len(s) > owners.MaxServiceLen || o.Team == "" || len(o.Team) > owners.MaxTeamLen ||
				len(o.Channel) > owners.MaxChannelLen || strings.ContainsAny(s+o.Team+o.Channel, "\x00\n\r\x1b") {
				t.Fatalf("accepted out-of-bounds entry %q: %+v", s, o)
			}
		}
	})
}
