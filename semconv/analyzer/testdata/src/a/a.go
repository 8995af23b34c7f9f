package a

import (
	opentracing "github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
)

const keyRoute = "http.route"

type status uint16

func tags(sp opentracing.Span, code int, name string, st status) {
	sp.SetTag("http.method", "GET")
	sp.SetTag("http.status_code", 200)
	sp.SetTag("http.status_code", code)
	sp.SetTag("http.status_code", st)
	sp.SetTag(keyRoute, name)
	sp.SetTag("http.request.header.x-tenant", name)
	sp.SetTag("sampling.probability", 1)
	sp.SetTag("http.statuscode", 200)            // want `unknown tag key "http.statuscode" \(did you mean "http.status_code"\?\)`
	sp.SetTag("totally.made.up", 1)              // want `unknown tag key "totally.made.up" \(not in the semantic-conventions registry\)`
	sp.SetTag("http.status_code", "200")         // want `"http.status_code" is an int tag, not string`
	sp.SetTag("http.status_code", name)          // want `"http.status_code" is an int tag, not string`
	sp.SetTag("http.method", "FETCH")            // want `"FETCH" is not an allowed value of "http.method"`
	sp.SetTag("traffic_source", "loadtest")      // want `"loadtest" is not an allowed value of "traffic_source"`
	sp.SetTag("rpc.grpc.status_code", 17)        // want `17 is not an allowed value of "rpc.grpc.status_code"`
	sp.SetTag("critical_operation", "Check Out") // want `"Check Out" is not an allowed value of "critical_operation" \(pattern`
	sp.SetTag("error", "true")                   // want `"error" is a bool tag, not string`
	sp.SetTag(name, 1)
	var v interface{} = 1
	sp.SetTag("http.status_code", v)

	_ = opentracing.Tag{Key: "flow_id", Value: name}
	_ = opentracing.Tag{Key: "flowid", Value: name} // want `unknown tag key "flowid" \(did you mean "flow_id"\?\)`
	_ = opentracing.Tag{"peer.port", "80"}          // want `"peer.port" is an int tag, not string`

	sp.LogKV("event", "error", "message", "boom")
	sp.LogKV("evnt", "error") // want `unknown log field key "evnt" \(did you mean "event"\?\)`

	_ = log.String("event", "error")
	_ = log.Int("message.id", 1)
	_ = log.String("message.id", "1") // want `"message.id" is an int field; this constructor makes a string`
	_ = log.String("mesage", "x")     // want `unknown log field key "mesage" \(did you mean "message"\?\)`
}
