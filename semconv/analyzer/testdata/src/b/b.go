package b

import opentracing "github.com/opentracing/opentracing-go"

// Judged against OTEL_SEMCONV_STABILITY_OPT_IN=http,database/dup.
func tags(sp opentracing.Span, status int) {
	sp.SetTag("http.method", "GET")                    // want `"http.method" is a legacy key; OTEL_SEMCONV_STABILITY_OPT_IN=http emits "http.request.method"`
	sp.SetTag("http.status_code", status)              // want `"http.status_code" is a legacy key; OTEL_SEMCONV_STABILITY_OPT_IN=http emits "http.response.status_code"`
	sp.SetTag("http.url", "/x")                        // want `"http.url" is a legacy key; OTEL_SEMCONV_STABILITY_OPT_IN=http emits url.path \(server spans\), url.full \(client spans\)`
	sp.SetTag("peer.ipv4", "10.0.0.1")                 // want `"peer.ipv4" is not emitted under OTEL_SEMCONV_STABILITY_OPT_IN=http`
	sp.SetTag("http.request.method", "GET")            // the stable name: fine
	sp.SetTag("http.route", "/x")                      // the same in both vocabularies
	sp.SetTag("db.statement", "SELECT 1")              // database/dup still emits the legacy name
	sp.SetTag("rpc.system", "grpc")                    // rpc stays legacy
	_ = opentracing.Tag{Key: "user_agent", Value: "x"} // want `"user_agent" is a legacy key; OTEL_SEMCONV_STABILITY_OPT_IN=http emits "user_agent.original"`
}
