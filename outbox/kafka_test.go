package outbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/switchboard-chat/switchboard/internal/testnats"
	"github.com/switchboard-chat/switchboard/outbox"
)

// Through an in-process Kafka cluster: one topic per namespace, each
// event keyed by its session, so that a session stays in one partition,
// in commit order there.
func TestKafka(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		ns := testnats.Unique("sbtest-")
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, ns))
		if err != nil {
			t.Fatal(err)
		}
		defer cluster.Close()
		e := newEnv(t, dialect, ns)
		sessions := []string{"s-a", "s-b", "s-c", "s-d", "s-e", "s-f"}
		for i := range 5 {
			for _, s := range sessions {
				e.write(t, change("messageStatusUpdated", s, "u", i))
			}
		}
		sink, err := outbox.Open("kafka://"+strings.Join(cluster.ListenAddrs(), ","), outbox.SinkOptions{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		r := outbox.NewRelay(e.db, e.committer, sink, outbox.RelayOptions{Now: e.clock.Now, Batch: 8})
		defer r.Stop()
		if n := drain(t, r); n != 30 {
			t.Fatalf("published %d, want 30", n)
		}

		cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(ns),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		partitionOf := map[string]int32{}
		next := map[string]int{}
		got := 0
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for got < 30 {
			fetches := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("consumed %d of 30: %v", got, err)
			}
			fetches.EachRecord(func(rec *kgo.Record) {
				got++
				env := envelopeOf(t, rec.Value)
				if string(rec.Key) != env.SessionID {
					t.Errorf("key %q for session %q", rec.Key, env.SessionID)
				}
				if p, seen := partitionOf[env.SessionID]; seen && p != rec.Partition {
					t.Errorf("session %s in partitions %d and %d", env.SessionID, p, rec.Partition)
				}
				partitionOf[env.SessionID] = rec.Partition
				if n := int(env.Payload[env.Name].(map[string]any)["n"].(float64)); n != next[env.SessionID] {
					t.Errorf("session %s: event %d, want %d", env.SessionID, n, next[env.SessionID])
				}
				next[env.SessionID]++
				if rec.Topic != ns || headerOf(rec, "id") != env.ID {
					t.Errorf("topic %s, id header %q, envelope %+v", rec.Topic, headerOf(rec, "id"), env)
				}
			})
		}
		partitions := map[int32]bool{}
		for _, p := range partitionOf {
			partitions[p] = true
		}
		if len(partitions) < 2 {
			t.Fatalf("6 sessions all in one partition (%v): the key does not spread them", fmt.Sprint(partitionOf))
		}
	})
}

func headerOf(rec *kgo.Record, key string) string {
	for _, h := range rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// A Kafka cluster that is down fails the publication (the events stay
// pending) rather than hanging the relay.
func TestKafkaDown(t *testing.T) {
	e := newEnv(t, "sqlite", "sb")
	e.write(t, change("a", "s", "u", 0))
	sink, err := outbox.Open("kafka://127.0.0.1:1", outbox.SinkOptions{Namespace: "sb"})
	if err != nil {
		t.Fatal(err)
	}
	r := outbox.NewRelay(e.db, e.committer, sink, outbox.RelayOptions{Now: e.clock.Now, Timeout: 500 * time.Millisecond})
	defer r.Stop()
	start := time.Now()
	if n, err := r.Pass(context.Background()); err == nil || n != 0 {
		t.Fatalf("pass: %d, %v", n, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a pass to a dead cluster took %v", d)
	}
	if lag, _ := outbox.PendingLag(e.db.DB); lag.Pending != 1 {
		t.Fatalf("%d pending, want 1", lag.Pending)
	}
}
