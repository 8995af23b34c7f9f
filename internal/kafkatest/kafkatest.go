// Package kafkatest starts an in-process Kafka wire-protocol broker
// (franz-go's kfake) on 127.0.0.1 with a random port, for tests and demos.
//
// kafka-go's Writer and Reader, with and without a consumer GroupID, work
// against it; see middleware/tracekafka's package documentation for the
// details and workarounds.
package kafkatest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running in-process broker.
type Broker struct {
	c    *kfake.Cluster
	addr string
}

// Start starts a one-node broker listening on 127.0.0.1 (random port) with
// the given topics, each with partitions partitions (at least 1). Topics
// that do not exist are created on first use. Close stops it.
func Start(partitions int, topics ...string) (*Broker, error) {
	if partitions < 1 {
		partitions = 1
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(partitions), topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafkatest: start broker: %w", err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, fmt.Errorf("kafkatest: broker has no listener")
	}
	return &Broker{c: c, addr: addrs[0]}, nil
}

// Addr returns the broker's host:port (127.0.0.1:port).
func (b *Broker) Addr() string { return b.addr }

// CreateTopic creates a topic with the given number of partitions.
func (b *Broker) CreateTopic(topic string, partitions int) error {
	return b.c.CreateTopic(topic, int32(partitions), nil)
}

// Cluster returns the underlying kfake cluster (fault injection, group
// inspection).
func (b *Broker) Cluster() *kfake.Cluster { return b.c }

// Close stops the broker. It is safe to call more than once.
func (b *Broker) Close() { b.c.Close() }

// NewBroker starts a broker with one partition per topic and stops it when
// the test ends. It returns the broker's address.
func NewBroker(tb testing.TB, topics ...string) string {
	tb.Helper()
	return NewBrokerPartitions(tb, 1, topics...).Addr()
}

// NewBrokerPartitions starts a broker whose topics have the given number of
// partitions and stops it when the test ends.
func NewBrokerPartitions(tb testing.TB, partitions int, topics ...string) *Broker {
	tb.Helper()
	b, err := Start(partitions, topics...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}
