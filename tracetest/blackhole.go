package tracetest

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// Blackhole is a TCP listener on loopback that accepts connections and never
// reads from or writes to them: to a client it looks like a hung collector.
type Blackhole struct {
	lis net.Listener
	wg  sync.WaitGroup

	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// NewBlackhole starts a Blackhole on 127.0.0.1 with an ephemeral port.
func NewBlackhole() (*Blackhole, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tracetest: listen: %w", err)
	}
	b := &Blackhole{lis: lis}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

func (b *Blackhole) accept() {
	defer b.wg.Done()
	for {
		c, err := b.lis.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			_ = c.Close()
			return
		}
		b.conns = append(b.conns, c)
		b.mu.Unlock()
	}
}

// Addr returns the listener's host:port.
func (b *Blackhole) Addr() string { return b.lis.Addr().String() }

// Endpoint returns "http://host:port", usable as an OTLP/gRPC endpoint.
func (b *Blackhole) Endpoint() string { return "http://" + b.lis.Addr().String() }

// HTTPEndpoint returns an OTLP/HTTP traces URL on the Blackhole.
func (b *Blackhole) HTTPEndpoint() string { return b.Endpoint() + "/v1/traces" }

// Conns returns how many connections are being held.
func (b *Blackhole) Conns() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// Close stops listening, closes every held connection and waits for the
// accept goroutine. It is safe to call more than once.
func (b *Blackhole) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	conns := b.conns
	b.conns = nil
	b.mu.Unlock()

	err := b.lis.Close()
	for _, c := range conns {
		err = errors.Join(err, c.Close())
	}
	b.wg.Wait()
	return err
}
