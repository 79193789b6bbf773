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

// Publish sends the records at once and then waits for their acks in
// order: the first one missing ends the count.
func (s *natsSink) Publish(ctx context.Context, records []Record) (int, error) {
	if err := s.ensureStream(ctx); err != nil {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(records))
	for _, r := range records {
		msg := &nats.Msg{Subject: r.Namespace + "." + r.Name, Data: r.Envelope, Header: nats.Header{}}
		f, err := s.js.PublishMsgAsync(msg, jetstream.WithMsgID(r.ID))
		if err != nil {
			break // the ones sent still count; this one and the rest wait
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			s.notReady()
			return i, fmt.Errorf("nats: %s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			s.notReady()
			return i, fmt.Errorf("nats: no ack: %w", ctx.Err())
		}
	}
	if len(futures) < len(records) {
		return len(futures), errors.New("nats: publishing refused (disconnected?)")
	}
	return len(futures), nil
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
