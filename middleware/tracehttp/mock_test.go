package tracehttp_test

import "github.com/opentracing/opentracing-go/mocktracer"

func newMockTracer() *mocktracer.MockTracer { return mocktracer.New() }
