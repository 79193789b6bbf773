package outbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaSink produces each event to the topic named by its namespace,
// keyed by its session (kafka's default partitioner hashes the key, so
// one session's events stay in one partition, in order), with an
// idempotent producer (franz-go's default), so that its own retries add
// no copies.
type kafkaSink struct {
	url string
	cl  *kgo.Client
}

func openKafka(url string, opts SinkOptions) (*kafkaSink, error) {
	var brokers []string
	for _, b := range strings.Split(strings.TrimPrefix(url, "kafka://"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return nil, fmt.Errorf("events sink %q: name at least one broker, kafka://host:9092", url)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(opts.Namespace),
		kgo.AllowAutoTopicCreation(), kgo.ClientID("switchboard"))
	if err != nil {
		return nil, fmt.Errorf("events sink %s: %w", url, err)
	}
	return &kafkaSink{url: url, cl: cl}, nil
}

func (s *kafkaSink) String() string { return s.url }

func (s *kafkaSink) Close() error {
	s.cl.Close()
	return nil
}

// Publish produces the records and waits for all of them; the first one
// that failed ends the count.
func (s *kafkaSink) Publish(ctx context.Context, records []Record) (int, error) {
	rs := make([]*kgo.Record, len(records))
	for i, r := range records {
		rs[i] = &kgo.Record{Topic: r.Namespace, Key: []byte(r.Key), Value: r.Envelope,
			Headers: []kgo.RecordHeader{{Key: "id", Value: []byte(r.ID)}, {Key: "name", Value: []byte(r.Name)}}}
	}
	results := s.cl.ProduceSync(ctx, rs...)
	for i, res := range results {
		if res.Err != nil {
			return i, fmt.Errorf("kafka: %s: %w", records[i].Namespace, res.Err)
		}
	}
	return len(results), nil
}
