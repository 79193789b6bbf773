package tickets

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// The search indexer keeps SQLite's full-text table (message_words,
// migration 0017) up with new messages off the message path: indexing
// each message in its own commit cost the send path about a third of its
// CPU (docs/performance.md § Ticket search index), most of it FTS4
// writing a new segment per transaction. Every searchIndexEvery it adds
// the messages above the high-water mark message_words_mark.seq in one
// Op of at most searchIndexBatch messages, so a segment holds hundreds
// of messages; search is behind by that much at most (docs/protocol.md
// § Ticket search). Changes to indexed messages (edit, removal,
// anonymisation, erasure) still follow at once by triggers, which see
// the mark.
//
// The mark is read and moved in the Op's own transaction, the one write
// transaction SQLite runs at a time, so indexers on every node that
// shares the database file can run side by side: none indexes a message
// twice and none needs a lease. PostgreSQL's GIN index follows the
// messages itself (its pending list already batches the index's writes):
// no indexer.
const (
	searchIndexEvery = 200 * time.Millisecond
	searchIndexBatch = 2000
)

// searchIndexer runs the indexing passes of one Service on SQLite.
type searchIndexer struct {
	db        *database.DB
	committer *database.Committer
	log       *slog.Logger
	stop      chan struct{}
	once      sync.Once
	done      chan struct{}
}

// startSearchIndexer starts the indexer on SQLite (nil on PostgreSQL).
func startSearchIndexer(db *database.DB, committer *database.Committer, log *slog.Logger) *searchIndexer {
	if db.Dialect == "postgres" {
		return nil
	}
	x := &searchIndexer{db: db, committer: committer, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go x.loop()
	return x
}

func (x *searchIndexer) loop() {
	defer close(x.done)
	tick := time.NewTicker(searchIndexEvery)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-x.stop; cancel() }()
	failing := false
	for {
		err := x.catchUp(ctx)
		if errors.Is(err, database.ErrClosed) {
			return
		}
		if err != nil && ctx.Err() == nil && !failing { // once a streak: the next pass retries
			x.log.Warn("tickets: search indexing failed", "err", err)
		}
		failing = err != nil
		select {
		case <-x.stop:
			return
		case <-tick.C:
		}
	}
}

// close stops the passes and waits for the one under way.
func (x *searchIndexer) close() {
	if x == nil {
		return
	}
	x.once.Do(func() { close(x.stop) })
	<-x.done
}

// catchUp indexes every message committed before it was called, batch
// by batch.
func (x *searchIndexer) catchUp(ctx context.Context) error {
	if x == nil {
		return nil
	}
	var last int64
	if err := x.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(seq), 0) FROM messages`).Scan(&last).Error; err != nil {
		return err
	}
	for {
		var mark int64
		if err := x.db.WithContext(ctx).Raw(`SELECT seq FROM message_words_mark`).Scan(&mark).Error; err != nil {
			return err
		}
		if mark >= last {
			return nil
		}
		if err := x.committer.Run(ctx, indexMessages); err != nil {
			return err
		}
	}
}

// indexMessages is one pass: the text messages above the mark, at most
// searchIndexBatch of them, go into message_words and the mark past them.
func indexMessages(tx *gorm.DB) ([]switchboard.Event, error) {
	var mark, upto int64
	if err := tx.Raw(`SELECT seq FROM message_words_mark`).Scan(&mark).Error; err != nil {
		return nil, err
	}
	if err := tx.Raw(`SELECT COALESCE(MAX(seq), 0) FROM messages`).Scan(&upto).Error; err != nil {
		return nil, err
	}
	upto = min(upto, mark+searchIndexBatch)
	if upto <= mark {
		return nil, nil
	}
	if err := tx.Exec(`INSERT INTO message_words (docid, content) SELECT seq, content FROM messages
		WHERE seq > ? AND seq <= ? AND kind = 'USER' AND type = 1`, mark, upto).Error; err != nil {
		return nil, err
	}
	return nil, tx.Exec(`UPDATE message_words_mark SET seq = ?`, upto).Error
}

// WaitSearchIndexed returns once search finds every message committed
// before the call (at once on PostgreSQL, whose index follows the
// messages in their own transactions).
func (s *Service) WaitSearchIndexed(ctx context.Context) error {
	return s.indexer.catchUp(ctx)
}
