package database_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// lockedBuffer is a log the Committer's goroutine writes and the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// panicOnce is a publisher that panics the first time it is given an
// event named at, and passes everything else on.
type panicOnce struct {
	at       string
	panicked bool
	next     switchboard.Publisher
}

func (p *panicOnce) Publish(evs []switchboard.Event) {
	for _, e := range evs {
		if e.Name == p.at && !p.panicked {
			p.panicked = true
			panic("publisher broke on " + e.Name)
		}
	}
	p.next.Publish(evs)
}

// TestCommitterSurvivesCallbackPanics: a publisher or a Done that panics
// is logged with its events and leaves the writer running: the Op whose
// publish panicked is still acknowledged (it is committed), and the next
// commits are acknowledged and published.
func TestCommitterSurvivesCallbackPanics(t *testing.T) {
	db := openItems(t, "sqlite")
	j := &journal{}
	var log lockedBuffer
	c := database.NewCommitter(db, &panicOnce{at: "a", next: j},
		database.CommitterOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	t.Cleanup(c.Close)

	if err := c.Run(context.Background(), insert("a")); err != nil {
		t.Fatalf("the Op whose publish panicked: %v, want nil (it committed)", err)
	}
	if err := c.Run(context.Background(), insert("b")); err != nil {
		t.Fatalf("the commit after a publisher's panic: %v", err)
	}
	c.Submit(insert("c"), func(error) { panic("an ack broke") })
	if err := c.Run(context.Background(), insert("d")); err != nil {
		t.Fatalf("the commit after an ack's panic: %v", err)
	}
	if got := values(t, db); strings.Join(got, ",") != "a,b,c,d" {
		t.Fatalf("rows %v, want a,b,c,d", got)
	}
	if got := strings.Join(j.eventNames(), ","); got != "b,c,d" {
		t.Fatalf("published %s, want b,c,d (a's publisher panicked)", got)
	}
	logged := log.String()
	for _, want := range []string{
		"publish callback panicked", `panic="publisher broke on a"`, `events="[a session=s]"`,
		"ack callback panicked", `panic="an ack broke"`, `events="[c session=s]"`,
	} {
		if !strings.Contains(logged, want) {
			t.Errorf("the log lacks %s:\n%s", want, logged)
		}
	}
}
