package tracetest

import (
	"context"
	"fmt"
	"sync"
)

// spanStore is the bounded span list that Receiver and Recorder share: the
// spans in arrival order, how many were not kept, and a channel closed on
// every change so that waiters are woken instead of polling.
type spanStore struct {
	mu      sync.Mutex
	spans   []Span
	dropped int64
	changed chan struct{}
}

// keepLocked appends as much of flat as limit allows, counts the rest as
// dropped, wakes waiters, and returns how many it kept. mu must be held.
func (s *spanStore) keepLocked(flat []Span, limit int) int {
	room := max(0, limit-len(s.spans))
	if len(flat) > room {
		s.dropped += int64(len(flat) - room)
		flat = flat[:room]
	}
	s.spans = append(s.spans, flat...)
	if len(flat) > 0 {
		s.signalLocked()
	}
	return len(flat)
}

func (s *spanStore) signalLocked() {
	if s.changed != nil {
		close(s.changed)
	}
	s.changed = make(chan struct{})
}

// resetLocked forgets the spans and the drop counter. mu must be held.
func (s *spanStore) resetLocked() { s.spans, s.dropped = nil, 0 }

func (s *spanStore) snapshot() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

func (s *spanStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.spans)
}

func (s *spanStore) droppedCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

func (s *spanStore) find(name string) (Span, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range s.spans {
		if sp.Name == name {
			return sp, true
		}
	}
	return Span{}, false
}

// wait returns once at least n spans are kept, or with what there is and an
// error naming verb ("got", "recorded") when ctx is done first.
func (s *spanStore) wait(ctx context.Context, n int, verb string) ([]Span, error) {
	for {
		s.mu.Lock()
		if len(s.spans) >= n {
			out := append([]Span(nil), s.spans...)
			s.mu.Unlock()
			return out, nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			got := s.snapshot()
			return got, fmt.Errorf("tracetest: %s %d of %d spans: %w", verb, len(got), n, ctx.Err())
		}
	}
}
