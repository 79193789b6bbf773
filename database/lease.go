package database

import (
	"context"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// Lease is one node's hold on a role that one node at a time plays among
// those sharing the database (the outbox's relay, the webhooks'
// dispatcher): a row (name, holder, expires_at) of Table that a node takes
// when it is free or expired and renews while it plays the role. A Lease
// is used by one goroutine.
type Lease struct {
	Table, Name string
	// Holder names this node; TTL is how long a claim lasts unrenewed.
	Holder string
	TTL    time.Duration
	// renewed is when this node last took or renewed it (zero: it does
	// not hold it).
	renewed time.Time
}

// Runner runs an Op on the write path (a Committer).
type Runner interface {
	Run(ctx context.Context, op Op) error
}

// Claim takes or renews the lease at now and reports whether this node
// holds it. A lease renewed less than a third of its TTL ago is not
// written again: an idle holder writes once in a while, not on every pass.
func (l *Lease) Claim(ctx context.Context, w Runner, now time.Time) (bool, error) {
	if !l.renewed.IsZero() && now.Before(l.renewed.Add(l.TTL/3)) {
		return true, nil
	}
	// Atomic: Run returns when ctx ends, and the Op may still run after.
	var got atomic.Bool
	ms := now.UnixMilli()
	err := w.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		n, err := Exec(tx, `INSERT INTO `+l.Table+` (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE `+l.Table+`.holder = excluded.holder OR `+l.Table+`.expires_at < ?`,
			l.Name, l.Holder, ms+l.TTL.Milliseconds(), ms)
		got.Store(n > 0)
		return nil, err
	})
	l.renewed = time.Time{}
	if err != nil || !got.Load() {
		return false, err
	}
	l.renewed = now
	return true, nil
}
