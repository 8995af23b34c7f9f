// Package log is a stub of opentracing-go/log for analyzer tests.
package log

type Field struct{}

func String(key, val string) Field        { return Field{} }
func Int(key string, val int) Field       { return Field{} }
func Bool(key string, val bool) Field     { return Field{} }
func Float64(key string, v float64) Field { return Field{} }
