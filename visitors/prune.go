package visitors

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Pruning. Every anonymous visitor leaves a refresh credential behind,
// and every renewal keeps the credential it spent beside its successor to
// tell a reuse of it; nothing else deletes them when they expire. A
// scheduled job (app) calls Prune on one node per slot.

const (
	// PruneMargin is how long after it expired a credential is kept: a
	// node whose clock is behind may still take it for live.
	PruneMargin = time.Hour
	// PruneBatch bounds the rows one transaction deletes, so that the
	// write path is never held long; PruneBatches bounds the transactions
	// of one run, and the next run takes the rest.
	PruneBatch   = 1000
	PruneBatches = 20
)

// Pruned is what one run of Prune deleted.
type Pruned struct {
	RefreshTokens int64
	SigningKeys   int64
	// More: the run stopped after PruneBatches full batches; rows may
	// be left for the next run.
	More bool
}

// Prune deletes, as of now, the refresh credentials that can no longer
// renew anything and the retired signing keys whose tokens have all
// expired.
//
// A refresh credential goes once every credential of its family expired
// more than PruneMargin before now. A spent credential is kept while its
// family's live successor is: presenting it is the reuse that revokes
// the successor, and with it deleted that would be an unknown credential
// revoking nothing. A family's expiry is its newest credential's, as
// each renewal counts the lifetime again.
func (s *Service) Prune(ctx context.Context, now time.Time) (Pruned, error) {
	var out Pruned
	cutoff := now.Add(-PruneMargin).UnixMilli()
	for range PruneBatches {
		var n int64
		err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
			var err error
			n, err = pruneRefresh(tx, cutoff, PruneBatch)
			return nil, err
		})
		if err != nil {
			return out, fmt.Errorf("visitors: pruning refresh tokens: %w", err)
		}
		out.RefreshTokens += n
		if out.More = n == PruneBatch; !out.More {
			break
		}
	}
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		var err error
		out.SigningKeys, err = deleteRetiredKeys(tx, now.Add(-s.opts.keepRetired()))
		return nil, err
	})
	if err != nil {
		return out, fmt.Errorf("visitors: deleting retired signing keys: %w", err)
	}
	return out, nil
}

// pruneRefresh deletes up to limit credentials of families whose every
// credential expired before cutoff (Unix ms).
func pruneRefresh(tx *gorm.DB, cutoff int64, limit int) (int64, error) {
	return database.Exec(tx, `DELETE FROM visitor_refresh_tokens WHERE hash IN (
		SELECT t.hash FROM visitor_refresh_tokens t WHERE t.expires_at < ?
		AND NOT EXISTS (SELECT 1 FROM visitor_refresh_tokens live WHERE live.family = t.family AND live.expires_at >= ?)
		LIMIT ?)`, cutoff, cutoff, limit)
}
