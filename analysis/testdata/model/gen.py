# Writes the OTLP/JSON files of analysis/testdata/model (issue 16 items 2-6).
import json, sys, os
T0 = 1767225600 * 10**9  # 2026-01-01T00:00:00Z
OUT = sys.argv[1]
KIND = {"internal":1, "server":2, "client":3, "producer":4, "consumer":5}

def val(v):
    if isinstance(v, bool): return {"boolValue": v}
    if isinstance(v, int): return {"intValue": str(v)}
    if isinstance(v, float): return {"doubleValue": v}
    return {"stringValue": v}

def tid(n): return "%032x" % (0x16000000000000000000000000000000 + n)
def sid(t, n): return "%016x" % (0x1600000000000000 + t*256 + n)

def write(name, spans):
    # spans: dicts with t, id, parent, svc, name, kind, start, end (ms, float ok), attrs, error, links [(t,id)], parent_raw
    lines = []
    for s in spans:
        sp = {"traceId": tid(s["t"]), "spanId": sid(s["t"], s["id"]), "name": s["name"], "kind": KIND[s["kind"]],
              "startTimeUnixNano": str(T0 + int(s["start"]*10**6)), "endTimeUnixNano": str(T0 + int(s["end"]*10**6)),
              "attributes": [{"key": k, "value": val(v)} for k, v in sorted(s.get("attrs", {}).items())],
              "status": {"code": 2, "message": "failed"} if s.get("error") else {}}
        if s.get("parent") is not None:
            sp["parentSpanId"] = sid(s["t"], s["parent"]) if isinstance(s["parent"], int) else s["parent"]
        if s.get("links"):
            sp["links"] = [{"traceId": tid(a), "spanId": sid(a, b)} for a, b in s["links"]]
        res = {"attributes": [{"key": "service.name", "value": val(s["svc"])}, {"key": "team", "value": val(s["svc"] + "-team")}]}
        lines.append(json.dumps({"resourceSpans": [{"resource": res, "scopeSpans": [{"scope": {"name": "handwritten"}, "spans": [sp]}]}]}, separators=(",", ":")))
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(lines) + "\n")

def S(t, i, parent, svc, name, kind, start, end, error=False, links=None, **attrs):
    return dict(t=t, id=i, parent=parent, svc=svc, name=name, kind=kind, start=start, end=end, error=error, links=links, attrs=attrs)

H = {"http.request.method": "GET"}
# --- skew.jsonl: 10 browse requests one second apart; catalog's clock runs 30 s fast.
sk = []
for i in range(10):
    b = i * 1000
    sk += [S(i+1, 1, None, "edge", "GET /products", "server", b, b+100, **H),
           S(i+1, 2, 1, "edge", "GET", "client", b+10, b+90, **H),
           S(i+1, 3, 2, "catalog", "GET /products", "server", 30000+b+20, 30000+b+80, **H)]
write("skew.jsonl", sk)

# --- broken.jsonl
G = {"rpc.system": "grpc", "rpc.service": "shop.Cart", "rpc.method": "Checkout"}
CO = {"critical_operation": "checkout"}
def co(**a):
    d = dict(CO); d.update(a); return d
br = [
    # 1: complete checkout
    S(1, 1, None, "edge", "POST /checkout", "server", 0, 100, **co(**{"http.request.method": "POST"})),
    S(1, 2, 1, "edge", "shop.Cart/Checkout", "client", 10, 90, **co(**G)),
    S(1, 3, 2, "cart", "shop.Cart/Checkout", "server", 20, 80, **co(**G)),
    # 2: the cart's server span is missing: a client span with only rpc.service
    S(2, 1, None, "edge", "POST /checkout", "server", 1000, 1100, **co(**{"http.request.method": "POST"})),
    S(2, 2, 1, "edge", "shop.Cart/Checkout", "client", 1010, 1090, **co(**G)),
    # 3: a browse whose catalog call has only a bare address
    S(3, 1, None, "edge", "GET /products", "server", 2000, 2100, **H),
    S(3, 2, 1, "edge", "GET", "client", 2010, 2090, **{"http.request.method": "GET", "server.address": "127.0.0.1", "server.port": 8081}),
    # 4: catalog calls itself (a self-call, server side present)
    S(4, 1, None, "edge", "GET /products", "server", 3000, 3100, **H),
    S(4, 2, 1, "edge", "GET", "client", 3005, 3095, **{"http.request.method": "GET", "server.address": "127.0.0.1"}),
    S(4, 3, 2, "catalog", "GET /products", "server", 3010, 3090, **H),
    S(4, 4, 3, "catalog", "GET", "client", 3020, 3080, **{"http.request.method": "GET", "server.address": "127.0.0.1"}),
    S(4, 5, 4, "catalog", "GET /products/{id}", "server", 3030, 3070, **H),
    # 5: a good checkout with an orphan fragment that starts first (its parent was not exported)
    S(5, 1, None, "edge", "POST /checkout", "server", 5000, 5100, **co(**{"http.request.method": "POST"})),
    S(5, 3, "00000000deadbeef", "cart", "shop.Cart/Checkout", "server", 4990, 5090, error=True, **co(**G)),
    # 6: only a fragment was recorded
    S(6, 3, "00000000deadbeef", "cart", "shop.Cart/Checkout", "server", 6000, 6080, error=True, **co(**G)),
]
write("broken.jsonl", br)

# --- peers.jsonl
pe = [
    S(1, 1, None, "edge", "GET /products", "server", 0, 200, **H),
    S(1, 2, 1, "edge", "SELECT products", "client", 10, 30, **{"db.system.name": "postgresql", "db.namespace": "products", "server.address": "10.0.0.5"}),
    S(1, 3, 1, "edge", "GET", "client", 35, 40, **{"db.system": "redis", "db.name": "0"}),
    S(1, 4, 1, "edge", "POST /charges", "client", 45, 95, **{"http.request.method": "POST", "server.address": "api.stripe.com"}),
    S(1, 5, 1, "edge", "GET /invoices", "client", 100, 120, **{"http.request.method": "GET", "peer.service": "legacy-billing"}),
    S(1, 6, 1, "edge", "GET /cart", "client", 125, 150, **{"http.request.method": "GET", "peer.service": "cart"}),
    S(1, 7, 1, "edge", "GET /stock", "client", 155, 190, **{"http.request.method": "GET", "server.address": "10.0.0.7"}),
    S(2, 1, None, "edge", "GET /cart", "server", 1000, 1100, **H),
    S(2, 2, 1, "edge", "GET /cart", "client", 1010, 1090, **{"http.request.method": "GET", "peer.service": "cart"}),
    S(2, 3, 2, "cart", "GET /cart", "server", 1020, 1080, **H),
    S(2, 4, 3, "cart", "SELECT carts", "client", 1030, 1040, **{"db.system.name": "postgresql", "db.namespace": "carts"}),
]
write("peers.jsonl", pe)

# --- links.jsonl: three checkouts each publish one order and one of them a refund;
# the orders are consumed in one batch (ConsumeBatch), the refund by a link-only consumer.
K = lambda topic, **a: dict({"messaging.system": "kafka", "messaging.destination.name": topic}, **a)
li = []
for i in range(3):
    b = i * 100
    li += [S(i+1, 1, None, "edge", "POST /checkout", "server", b, b+50, **co(**{"http.request.method": "POST"})),
           S(i+1, 2, 1, "edge", "send orders", "producer", b+10, b+12, **co(**K("orders")))]
li += [S(1, 3, 1, "edge", "send refunds", "producer", 20, 22, **co(**K("refunds")))]
li += [S(10, 1, None, "payment", "process orders", "consumer", 400, 450, links=[(1, 2), (2, 2), (3, 2)], **K("orders", **{"messaging.batch.message_count": 3})),
       S(11, 1, None, "payment", "process refunds", "consumer", 460, 470, links=[(1, 3)], **K("refunds"))]
write("links.jsonl", li)

# --- retries.jsonl
R = [
    # 1: a catalog call fails deep down, is retried and succeeds; the edge's own render step fails
    S(1, 1, None, "edge", "GET /browse", "server", 0, 300, error=True, **H),
    S(1, 2, 1, "edge", "GET /products", "client", 10, 60, error=True, **H),
    S(1, 3, 2, "catalog", "GET /products", "server", 15, 55, error=True, **H),
    S(1, 4, 3, "catalog", "SELECT products", "client", 20, 50, error=True, **{"db.system.name": "postgresql", "db.namespace": "products"}),
    S(1, 5, 1, "edge", "GET /products", "client", 70, 120, **H),
    S(1, 6, 5, "catalog", "GET /products", "server", 75, 115, **H),
    S(1, 7, 1, "edge", "render", "internal", 130, 290, error=True),
    # 2: recommendations fail, the fallback (popular items from catalog) works; payment fails
    S(2, 1, None, "edge", "GET /browse", "server", 1000, 1400, error=True, **H),
    S(2, 2, 1, "edge", "GET /recommend", "client", 1010, 1060, error=True, **H),
    S(2, 3, 2, "recs", "GET /recommend", "server", 1015, 1055, error=True, **H),
    S(2, 4, 3, "recs", "score", "internal", 1020, 1050, error=True),
    S(2, 5, 1, "edge", "GET /popular", "client", 1065, 1100, **H),
    S(2, 6, 5, "catalog", "GET /popular", "server", 1070, 1095, **H),
    S(2, 7, 1, "edge", "POST /charge", "client", 1110, 1390, error=True, **H),
    S(2, 8, 7, "payment", "POST /charge", "server", 1115, 1385, error=True, **H),
    # 3: every retry fails: the last attempt's server is blamed
    S(3, 1, None, "edge", "GET /browse", "server", 2000, 2200, error=True, **H),
    S(3, 2, 1, "edge", "GET /products", "client", 2010, 2090, error=True, **H),
    S(3, 3, 2, "catalog", "GET /products", "server", 2015, 2085, error=True, **H),
    S(3, 4, 1, "edge", "GET /products", "client", 2100, 2190, error=True, **H),
    S(3, 5, 4, "catalog", "GET /products", "server", 2105, 2185, error=True, **H),
]
write("retries.jsonl", R)
