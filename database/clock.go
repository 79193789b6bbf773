package database

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// The clock numbers committed Ops across every node that writes to the
// database (CommitterOptions.Sequence), so that each node can deliver
// the events of all of them in one order, the order of their commits.
//
// A transaction whose Ops have events for sockets adds their number to
// the one row of the clock table as its last statement. The row stays
// locked until the transaction ends, so another node's transaction that
// ticks waits for this one's commit (or rollback): the numbers are
// handed out in commit order, without gaps, and a rolled-back
// transaction hands out none. The lock is held only from the tick to
// the commit, the end of each transaction.

// tick adds n to the clock in tx and returns the first of the n numbers
// it took.
func tick(tx *gorm.DB, n int) (first uint64, err error) {
	var last uint64
	err = QueryRow(tx, `UPDATE clock SET seq = seq + ? WHERE id = 1 RETURNING seq`, n).Scan(&last)
	return last - uint64(n) + 1, err
}

// Clock returns the last number the clock handed out: every Op numbered
// up to it has committed.
func (db *DB) Clock() (uint64, error) {
	var seq uint64
	err := db.DB.Raw(`SELECT seq FROM clock WHERE id = 1`).Row().Scan(&seq)
	return seq, err
}

// audience reports whether evs hold an event for sockets, the events the
// clock numbers.
func audience(evs []switchboard.Event) bool {
	for _, e := range evs {
		if len(e.To) > 0 && e.Protocol != switchboard.ProtocolStream {
			return true
		}
	}
	return false
}
