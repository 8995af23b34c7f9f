// Package opentracing is a stub of opentracing-go for analyzer tests.
package opentracing

type Span interface {
	SetTag(key string, value interface{}) Span
	LogKV(alternatingKeyValues ...interface{})
}

type Tag struct {
	Key   string
	Value interface{}
}

type Tags map[string]interface{}
