package owners

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/flowtrace/flowtrace/internal/safefile"
)

// Env is the environment variable the commands read when --owners is not
// given.
const Env = "FLOWTRACE_OWNERS"

// Bounds on the file and its names. A fleet of a few thousand services
// fits several times over (about 80 bytes an entry); the bounds keep a
// wrong file (a log, a binary) from costing memory or producing unusable
// labels.
const (
	MaxFileSize   = 1 << 20
	MaxServices   = 20_000
	MaxServiceLen = 255
	MaxTeamLen    = 128
	MaxChannelLen = 512
)

// Source of an owner.
const (
	SourceFile      = "file"      // the ownership file lists the service
	SourceAttribute = "attribute" // the service's own team attribute
)

// Owner is who owns a service.
type Owner struct {
	Team    string `json:"team,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Source is SourceFile, SourceAttribute, or empty when nobody is known.
	Source string `json:"source,omitempty"`
	// Conflict is the team attribute when the file names another team
	// (the file's team is used; see the package documentation).
	Conflict string `json:"attribute_team_conflict,omitempty"`
}

// Map is a parsed ownership file. A nil *Map lists nothing.
type Map struct {
	name     string
	services map[string]Owner
}

// Load reads and parses the ownership file at path.
func Load(path string) (*Map, error) {
	b, err := safefile.Read(path, MaxFileSize, safefile.DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("ownership file: %w", err)
	}
	return Parse(b, path)
}

// Parse parses an ownership file's content; name is used in errors, which
// give the line and the field.
func Parse(data []byte, name string) (*Map, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: ownership file larger than %d bytes", name, MaxFileSize)
	}
	errf := func(n *yaml.Node, format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n.Line, fmt.Sprintf(format, a...))
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty ownership file (want services: {<service>: {team: ..., channel: ...}})", name)
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errf(&doc, "want a mapping with a services key")
	}
	root := doc.Content[0]
	m := &Map{name: name, services: map[string]Owner{}}
	var saw bool
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != "services" {
			return nil, errf(k, "unknown key %q (want services)", k.Value)
		}
		if saw {
			return nil, errf(k, "services: given twice")
		}
		saw = true
		if v.Kind != yaml.MappingNode {
			return nil, errf(v, "services: want a mapping of service name to {team, channel}")
		}
		if len(v.Content)/2 > MaxServices {
			return nil, errf(v, "services: more than %d services", MaxServices)
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			sk, sv := v.Content[j], v.Content[j+1]
			if sk.Kind != yaml.ScalarNode {
				return nil, errf(sk, "services: want a service name")
			}
			svc := sk.Value
			if err := checkName(svc, MaxServiceLen, false); err != nil {
				return nil, errf(sk, "services: service name %q: %v", clip(svc), err)
			}
			if _, dup := m.services[svc]; dup {
				return nil, errf(sk, "services.%s: given twice", svc)
			}
			o, err := parseOwner(sv, "services."+svc, errf)
			if err != nil {
				return nil, err
			}
			m.services[svc] = o
		}
	}
	if !saw {
		return nil, errf(root, "services: required")
	}
	return m, nil
}

type errfFunc func(n *yaml.Node, format string, a ...any) error

func parseOwner(n *yaml.Node, path string, errf errfFunc) (Owner, error) {
	o := Owner{Source: SourceFile}
	if n.Kind != yaml.MappingNode {
		return o, errf(n, "%s: want a mapping {team: ..., channel: ...}", path)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return o, errf(k, "%s.%s: given twice", path, k.Value)
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return o, errf(v, "%s.%s: want a single string", path, k.Value)
		}
		var err error
		switch k.Value {
		case "team":
			o.Team, err = v.Value, checkName(v.Value, MaxTeamLen, false)
		case "channel":
			o.Channel, err = v.Value, checkName(v.Value, MaxChannelLen, true)
		default:
			return o, errf(k, "%s: unknown key %q (want team, channel)", path, k.Value)
		}
		if err != nil {
			return o, errf(v, "%s.%s: %q: %v", path, k.Value, clip(v.Value), err)
		}
	}
	if o.Team == "" {
		return o, errf(n, "%s.team: required", path)
	}
	return o, nil
}

// checkName bounds a name: non-empty, at most max bytes of valid UTF-8, no
// control or other non-printing characters (they would reach labels,
// terminals and chat messages), no surrounding blanks; a channel may not
// contain blanks at all (it is a handle or a URL).
func checkName(s string, max int, channel bool) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > max:
		return fmt.Errorf("longer than %d bytes", max)
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case strings.TrimSpace(s) != s:
		return errors.New("leading or trailing blanks")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || (channel && r == ' ') {
			return fmt.Errorf("character %U not allowed", r)
		}
	}
	return nil
}

// clip shortens a rejected value for the error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 64
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// Name is the file name the map was parsed from ("" for a nil map).
func (m *Map) Name() string {
	if m == nil {
		return ""
	}
	return m.name
}

// Len is the number of services listed.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.services)
}

// Services returns the listed services, sorted.
func (m *Map) Services() []string {
	if m == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(m.services))
}

// Lookup returns the file's owner of service.
func (m *Map) Lookup(service string) (Owner, bool) {
	if m == nil {
		return Owner{}, false
	}
	o, ok := m.services[service]
	return o, ok
}

// Resolve returns the owner of service given the team attribute its spans
// carry (empty when none): the file's entry when it lists the service
// (with Conflict set when the attribute names another team), else the
// attribute, else nobody. See the package documentation for why the file
// wins.
func (m *Map) Resolve(service, attrTeam string) Owner {
	if o, ok := m.Lookup(service); ok {
		if attrTeam != "" && attrTeam != o.Team {
			o.Conflict = attrTeam
		}
		return o
	}
	if attrTeam != "" {
		return Owner{Team: attrTeam, Source: SourceAttribute}
	}
	return Owner{}
}
