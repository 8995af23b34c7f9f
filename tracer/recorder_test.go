package tracer

import (
	"context"
	"sync"
)

// recorder is a SpanProcessor that keeps finished spans in memory.
type recorder struct {
	mu    sync.Mutex
	spans []*SpanData
}

func (r *recorder) OnEnd(s *SpanData) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}

func (r *recorder) ForceFlush(context.Context) error { return nil }
func (r *recorder) Shutdown(context.Context) error   { return nil }

func (r *recorder) all() []*SpanData {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*SpanData(nil), r.spans...)
}

func attr(s *SpanData, key string) (any, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}
