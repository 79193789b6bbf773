package outbox

import (
	"context"
	"fmt"
	"strings"
)

// Record is one outbox row on its way to the sink.
type Record struct {
	Seq       int64
	ID        string // the envelope's id: the sinks' de-duplication key
	Namespace string
	Name      string
	SessionID string
	Key       string // the partition key: the session, else the user
	Envelope  []byte
}

// Sink is where the stream goes. Publish keeps the order of records and
// reports how many of them, from the first, the sink has accepted for
// good; err says why the rest were not. A record it may have accepted
// without saying so will be published again: consumers de-duplicate by
// the envelope id.
type Sink interface {
	Publish(ctx context.Context, records []Record) (accepted int, err error)
	// String names the sink for logs and /readyz, without credentials.
	String() string
	Close() error
}

// SinkOptions configures Open. Zero values work.
type SinkOptions struct {
	// Namespace is the events' namespace (default DefaultNamespace): the
	// NATS stream captures <Namespace>.>, the Kafka topic is Namespace.
	Namespace string
	// Stream is the JetStream stream (default DefaultStream).
	Stream string
}

// Open connects to the sink url names: nats://host:4222[,nats://…] for
// NATS JetStream, kafka://host:9092[,host:9092…] for Kafka. It does not
// wait for the sink: one that is down is retried when events are
// published.
func Open(url string, opts SinkOptions) (Sink, error) {
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	switch {
	case strings.HasPrefix(url, "nats://"), strings.HasPrefix(url, "tls://"):
		return openNATS(url, opts)
	case strings.HasPrefix(url, "kafka://"):
		return openKafka(url, opts)
	}
	return nil, fmt.Errorf("events sink %q: use nats://host:4222 or kafka://host:9092[,host:9092]", redact(url))
}

// redact hides a password in a sink URL.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "…@" + rest[at+1:]
	}
	return scheme + "://" + rest
}
