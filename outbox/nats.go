package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStream is the JetStream stream the events go to unless
// configured.
const DefaultStream = "SWITCHBOARD"

// natsSink publishes each event on <namespace>.<eventName> to a JetStream
// stream, with Nats-Msg-Id = the envelope id so that the stream drops a
// copy published again within its duplicate window.
type natsSink struct {
	url    string
	nc     *nats.Conn
	js     jetstream.JetStream
	stream string
	ns     string

	mu    sync.Mutex
	ready bool // the stream is known to exist and capture the subjects
}

func openNATS(url string, opts SinkOptions) (*natsSink, error) {
	// A server that is down at start is retried, never refused: events
	// wait in the outbox. Nothing is buffered while disconnected: a
	// publication fails at once and the relay retries it, rather than
	// copies piling up in the client to be sent on reconnection.
	nc, err := nats.Connect(url, nats.Name("switchboard"), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, fmt.Errorf("events sink %s: %w", redact(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("events sink %s: %w", redact(url), err)
	}
	return &natsSink{url: redact(url), nc: nc, js: js, stream: opts.Stream, ns: opts.Namespace}, nil
}

func (s *natsSink) String() string { return s.url + " (stream " + s.stream + ")" }

func (s *natsSink) Close() error {
	s.nc.Close()
	return nil
}

// Publish sends the records at once and then waits for their acks,
// for the last one first: they come back in order, so that the relay
// wakes once for the batch rather than once an ack. The first ack
// missing or refused ends the count. The id header is set on the
// message itself: the client's publish options cost more than the
// publication.
func (s *natsSink) Publish(ctx context.Context, records []Record) (int, error) {
	if err := s.ensureStream(ctx); err != nil {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(records))
	for _, r := range records {
		msg := &nats.Msg{Subject: r.Namespace + "." + r.Name, Data: r.Envelope,
			Header: nats.Header{jetstream.MsgIDHeader: []string{r.ID}}}
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			break // the ones sent still count; this one and the rest wait
		}
		futures = append(futures, f)
	}
	// A future's channels give their value once: the last one's is kept.
	last, lastErr := len(futures)-1, error(nil)
	if last >= 0 {
		lastErr = ack(ctx, futures[last])
	}
	for i, f := range futures {
		err := lastErr
		if i < last {
			err = ack(ctx, f)
		}
		if err != nil {
			s.notReady()
			return i, fmt.Errorf("nats: %s: %w", f.Msg().Subject, err)
		}
	}
	if len(futures) < len(records) {
		return len(futures), errors.New("nats: publishing refused (disconnected?)")
	}
	return len(futures), nil
}

// ack waits for f's ack and says why it did not come.
func ack(ctx context.Context, f jetstream.PubAckFuture) error {
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return fmt.Errorf("no ack: %w", ctx.Err())
	}
}

func (s *natsSink) notReady() {
	s.mu.Lock()
	s.ready = false
	s.mu.Unlock()
}

// ensureStream creates the stream if it is missing, or adds the
// namespace's subjects to one that does not capture them.
func (s *natsSink) ensureStream(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	subjects := s.ns + ".>"
	st, err := s.js.Stream(ctx, s.stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{Name: s.stream, Subjects: []string{subjects},
			Storage: jetstream.FileStorage})
	case err == nil && !slices.Contains(st.CachedInfo().Config.Subjects, subjects):
		cfg := st.CachedInfo().Config
		cfg.Subjects = append(cfg.Subjects, subjects)
		_, err = s.js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("nats: stream %s: %w", s.stream, err)
	}
	s.ready = true
	return nil
}
