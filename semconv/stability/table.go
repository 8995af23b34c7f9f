package stability

import (
	"net"
	"strconv"
	"strings"
)

// Kind is the span kind a mapping applies to.
type Kind uint8

// Kinds. AnyKind matches every span.
const (
	AnyKind Kind = iota
	Server
	Client
	Producer
	Consumer
)

func (k Kind) String() string {
	return [...]string{"any", "server", "client", "producer", "consumer"}[min(int(k), 4)]
}

// Transform says how a legacy value becomes the stable keys' values.
type Transform uint8

// Transforms.
const (
	// Same: the value is copied to the one stable key.
	Same Transform = iota
	// HostPort: "host:port" (or a gRPC target "scheme:///host:port") is
	// split into an address (string) and a port (int) for the two stable
	// keys; a value without a port sets only the address.
	HostPort
	// GRPCCodeName: a numeric gRPC status code becomes its name
	// (DEADLINE_EXCEEDED).
	GRPCCodeName
	// OperationType: a messaging operation becomes messaging.operation.type
	// (publish becomes send).
	OperationType
	// IntString: an integer becomes its decimal text.
	IntString
)

// Mapping is one row of the table.
type Mapping struct {
	Category Category
	// Legacy is the legacy key; "" for a stable key with no legacy
	// counterpart, emitted only when the category emits stable names.
	Legacy string
	// Kind restricts the row to spans of that kind (AnyKind: all).
	Kind Kind
	// Stable are the keys the legacy value becomes; none: the legacy key is
	// not emitted in stable mode and has no successor.
	Stable    []string
	Transform Transform
	// Note says what the row does beyond a rename (for REFERENCE.md).
	Note string
}

// Table is the one mapping between legacy and stable names. Keys that are
// the same in both vocabularies (http.route, rpc.service's successor aside,
// messaging.system, messaging.destination.name, ...) have no row: they are
// emitted in every mode.
var Table = []Mapping{
	{Category: HTTP, Legacy: "http.method", Stable: []string{"http.request.method"}},
	{Category: HTTP, Legacy: "http.method_original", Stable: []string{"http.request.method_original"}},
	{Category: HTTP, Legacy: "http.status_code", Stable: []string{"http.response.status_code"}},
	{Category: HTTP, Legacy: "http.url", Kind: Server, Stable: []string{"url.path"}, Note: "the escaped path"},
	{Category: HTTP, Legacy: "", Kind: Server, Stable: []string{"url.query"}, Note: "the query with every value replaced by REDACTED"},
	{Category: HTTP, Legacy: "http.url", Kind: Client, Stable: []string{"url.full"}, Note: "without user information or query"},
	{Category: HTTP, Legacy: "http.target", Stable: []string{"url.path"}},
	{Category: HTTP, Legacy: "http.scheme", Stable: []string{"url.scheme"}},
	{Category: HTTP, Legacy: "http.host", Kind: Server, Stable: []string{"server.address", "server.port"}, Transform: HostPort},
	{Category: HTTP, Legacy: "user_agent", Stable: []string{"user_agent.original"}},
	{Category: HTTP, Legacy: "http.request_content_length", Stable: []string{"http.request.body.size"}},
	{Category: HTTP, Legacy: "http.response_size", Stable: []string{"http.response.body.size"}},
	// peer.address follows the http switch on gRPC spans too: OpenTelemetry's
	// network attributes became stable with HTTP's.
	{Category: HTTP, Legacy: "peer.address", Kind: Server, Stable: []string{"network.peer.address", "network.peer.port"}, Transform: HostPort},
	{Category: HTTP, Legacy: "peer.address", Kind: Client, Stable: []string{"server.address", "server.port"}, Transform: HostPort, Note: "a gRPC client's target"},
	{Category: HTTP, Legacy: "peer.ipv4", Note: "network.peer.address carries it"},
	{Category: HTTP, Legacy: "peer.ipv6", Note: "network.peer.address carries it"},
	{Category: HTTP, Legacy: "peer.hostname", Kind: Client, Stable: []string{"server.address"}},
	{Category: HTTP, Legacy: "peer.port", Kind: Client, Stable: []string{"server.port"}},

	{Category: Database, Legacy: "db.type", Stable: []string{"db.system.name"}},
	{Category: Database, Legacy: "db.system", Stable: []string{"db.system.name"}},
	{Category: Database, Legacy: "db.instance", Stable: []string{"db.namespace"}},
	{Category: Database, Legacy: "db.name", Stable: []string{"db.namespace"}},
	{Category: Database, Legacy: "db.statement", Stable: []string{"db.query.text"}},
	{Category: Database, Legacy: "db.operation", Stable: []string{"db.operation.name"}},
	{Category: Database, Legacy: "db.user", Note: "deprecated by OpenTelemetry without a successor"},

	{Category: RPC, Legacy: "rpc.system", Stable: []string{"rpc.system.name"}},
	{Category: RPC, Legacy: "rpc.service", Note: "folded into rpc.method"},
	{Category: RPC, Legacy: "rpc.method", Stable: []string{"rpc.method"}, Note: "the fully qualified Service/Method; with rpc/dup the stable value wins"},
	{Category: RPC, Legacy: "rpc.grpc.status_code", Stable: []string{"rpc.response.status_code"}, Transform: GRPCCodeName},

	{Category: Messaging, Legacy: "messaging.operation", Stable: []string{"messaging.operation.type"}, Transform: OperationType},
	{Category: Messaging, Legacy: "messaging.kafka.partition", Stable: []string{"messaging.destination.partition.id"}, Transform: IntString},
	{Category: Messaging, Legacy: "message_bus.destination", Stable: []string{"messaging.destination.name"}},
}

type rowKey struct {
	cat  Category
	kind Kind
	key  string
}

var rows = func() map[rowKey]*Mapping {
	m := make(map[rowKey]*Mapping, len(Table))
	for i := range Table {
		r := &Table[i]
		if r.Legacy != "" {
			m[rowKey{r.Category, r.Kind, r.Legacy}] = r
		}
	}
	return m
}()

// Lookup returns the row for a legacy key on a span of kind k in category
// c: the kind's own row first, then the AnyKind one; nil when the key is
// the same in both vocabularies.
func Lookup(c Category, k Kind, legacy string) *Mapping {
	if k != AnyKind {
		if r := rows[rowKey{c, k, legacy}]; r != nil {
			return r
		}
	}
	return rows[rowKey{c, AnyKind, legacy}]
}

// Convert returns the stable keys and values a legacy value becomes under
// row r, appended to kv as key, value pairs.
func (r *Mapping) Convert(kv []any, v any) []any {
	switch r.Transform {
	case HostPort:
		s, ok := v.(string)
		if !ok || len(r.Stable) != 2 {
			return kv
		}
		host, port, ok := splitHostPort(s)
		if host == "" {
			return kv
		}
		kv = append(kv, r.Stable[0], host)
		if ok {
			kv = append(kv, r.Stable[1], port)
		}
		return kv
	case GRPCCodeName:
		if code, ok := asInt(v); ok {
			return append(kv, r.Stable[0], GRPCCode(code))
		}
		return kv
	case OperationType:
		if s, ok := v.(string); ok && s == "publish" {
			v = "send"
		}
	case IntString:
		if n, ok := asInt(v); ok {
			v = strconv.Itoa(n)
		}
	}
	for _, k := range r.Stable {
		kv = append(kv, k, v)
	}
	return kv
}

func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case uint32:
		return int(x), true
	}
	return 0, false
}

// splitHostPort splits "host:port", "[v6]:port" or a gRPC target
// ("dns:///host:port", "passthrough:///host:port"). A value without a
// valid port (a Unix socket path, a bare host) is returned whole as host.
func splitHostPort(s string) (host string, port int, ok bool) {
	if i := strings.Index(s, ":///"); i >= 0 {
		s = s[i+4:]
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, 0, false
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return s, 0, false
	}
	return h, int(n), true
}

var grpcCodes = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// GRPCCode returns the name OpenTelemetry records for a gRPC status code
// (rpc.response.status_code); a code outside 0..16 as its decimal text.
func GRPCCode(code int) string {
	if code >= 0 && code < len(grpcCodes) {
		return grpcCodes[code]
	}
	return strconv.Itoa(code)
}

// Alias is where the other vocabulary keeps a key's value.
type Alias struct {
	Key string
	// Host: Key holds "host:port" (peer.address) and the key wanted only
	// the host (server.address, network.peer.address).
	Host bool
	// Port: Key holds only the host and the key wanted "host:port"; Port is
	// the key of the port, joined when present.
	Port string
}

// From returns the alias's value in attrs, converted to the wanted key's
// form.
func (a Alias) From(attrs map[string]any) (any, bool) {
	v, ok := attrs[a.Key]
	if !ok {
		return nil, false
	}
	s, isString := v.(string)
	switch {
	case a.Host && isString:
		host, _, _ := splitHostPort(s)
		return host, true
	case a.Port != "" && isString:
		switch p := attrs[a.Port].(type) {
		case int64:
			return net.JoinHostPort(s, strconv.FormatInt(p, 10)), true
		case int:
			return net.JoinHostPort(s, strconv.Itoa(p)), true
		}
	}
	return v, true
}

// Aliases returns where the other vocabulary keeps key's value on a span
// of kind k: for a legacy key its stable successor, for a stable key its
// legacy predecessors, when the row copies the value (Same) or splits a
// host:port (HostPort: the address key and the legacy key are aliases,
// converted by Alias.From). Nil when there is none.
//
// It costs one map look-up by key (the trace tools call it on every
// attribute miss).
func Aliases(key string, k Kind) []Alias {
	a := aliases[key]
	if a == nil {
		return nil
	}
	if k != AnyKind && a[k] != nil {
		return a[k]
	}
	return a[AnyKind]
}

// aliases maps a key to its aliases by span kind.
var aliases = func() map[string]*[Consumer + 1][]Alias {
	m := map[string]*[Consumer + 1][]Alias{}
	add := func(k Kind, from string, to Alias) {
		a := m[from]
		if a == nil {
			a = new([Consumer + 1][]Alias)
			m[from] = a
		}
		for _, x := range a[k] {
			if x.Key == to.Key {
				return
			}
		}
		a[k] = append(a[k], to)
	}
	for _, r := range Table {
		if r.Legacy == "" || len(r.Stable) == 0 || r.Legacy == r.Stable[0] {
			continue
		}
		switch r.Transform {
		case Same:
			add(r.Kind, r.Legacy, Alias{Key: r.Stable[0]})
			add(r.Kind, r.Stable[0], Alias{Key: r.Legacy})
		case HostPort:
			add(r.Kind, r.Legacy, Alias{Key: r.Stable[0], Port: r.Stable[1]})
			add(r.Kind, r.Stable[0], Alias{Key: r.Legacy, Host: true})
		}
	}
	return m
}()
