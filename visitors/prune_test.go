package visitors

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

func refreshRows(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.Raw(`SELECT COUNT(*) FROM visitor_refresh_tokens`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func familyRows(t *testing.T, db *database.DB, refresh string) int {
	t.Helper()
	hash, _ := refreshHash(refresh)
	var n int
	if err := db.Raw(`SELECT COUNT(*) FROM visitor_refresh_tokens WHERE family IN
		(SELECT family FROM visitor_refresh_tokens WHERE hash = ?)`, hash).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPruneRefreshTokens: credentials that expired more than PruneMargin
// ago go; live ones stay, and so does a spent one whose successor lives,
// for its reuse still revokes the successor.
func TestPruneRefreshTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		start := time.Unix(1_700_000_000, 0)
		c := &clock{start}
		s := newService(t, db, c, Options{RefreshTTL: 24 * time.Hour})
		grant := func() Grant {
			g, err := s.Anonymous(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		renew := func(g Grant) Grant {
			n, err := s.Renew(ctx, g.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		abandoned := grant() // never renewed: expires at 24 h
		spent1, spent2 := grant(), grant()
		c.t = start.Add(20 * time.Hour)
		live1, live2 := renew(spent1), renew(spent2) // the spent ones expire at 24 h, their successors at 44 h
		c.t = start.Add(30 * time.Hour)
		late := grant() // expires at 54 h

		// Within the margin after the expiry nothing goes.
		c.t = start.Add(24*time.Hour + PruneMargin - time.Minute)
		if p, err := s.Prune(ctx, c.t); err != nil || p.RefreshTokens != 0 {
			t.Fatalf("pruned %+v (%v) within the margin", p, err)
		}
		c.t = start.Add(24*time.Hour + PruneMargin + time.Minute)
		if p, err := s.Prune(ctx, c.t); err != nil || p.RefreshTokens != 1 || p.More {
			t.Fatalf("pruned %+v (%v), want the abandoned credential only", p, err)
		}
		if familyRows(t, db, abandoned.RefreshToken) != 0 {
			t.Fatal("the abandoned credential is still stored")
		}
		if familyRows(t, db, live1.RefreshToken) != 2 || familyRows(t, db, live2.RefreshToken) != 2 || familyRows(t, db, late.RefreshToken) != 1 {
			t.Fatal("a live credential, or a spent one whose successor lives, was pruned")
		}
		// The spent credential, expired itself, is still a reuse that
		// revokes its live successor.
		if _, err := s.Renew(ctx, spent1.RefreshToken); code(err) != switchboard.ETOKENINVALID || !strings.Contains(err.Error(), "used already") {
			t.Fatalf("a spent credential after pruning: %v, want refused as reused", err)
		}
		if _, err := s.Renew(ctx, live1.RefreshToken); code(err) != switchboard.ETOKENINVALID {
			t.Fatalf("the successor of a reused credential: %v, want revoked", err)
		}
		if _, err := s.Renew(ctx, live2.RefreshToken); err != nil {
			t.Fatalf("a live credential after pruning: %v", err)
		}

		// live2 was renewed at 25 h 1 min: its family lives until 49 h 1 min.
		c.t = start.Add(50*time.Hour + PruneMargin)
		if p, err := s.Prune(ctx, c.t); err != nil || p.RefreshTokens != 2 {
			t.Fatalf("pruned %+v (%v), want the expired family's two credentials", p, err)
		}
		if n := refreshRows(t, db); n != 1 || familyRows(t, db, late.RefreshToken) != 1 {
			t.Fatalf("%d credentials left, want the late one", n)
		}
	})
}

// TestPruneInBatches: more expired credentials than a batch all go in
// one run, batch by batch; a run stops after PruneBatches batches.
func TestPruneInBatches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		start := time.Unix(1_700_000_000, 0)
		s := newService(t, db, &clock{start}, Options{})
		insert := func(n int, expires time.Time) {
			rows := make([]string, 0, n)
			for i := range n {
				rows = append(rows, fmt.Sprintf("('%s', 'v', '%s', %d, 0, %d)", newUUID(), newUUID(), expires.UnixMilli(), start.UnixMilli()+int64(i)))
			}
			if err := db.Exec(`INSERT INTO visitor_refresh_tokens (hash, visitor_id, family, expires_at, used_at, created_at) VALUES ` +
				strings.Join(rows, ",")).Error; err != nil {
				t.Fatal(err)
			}
		}
		expired := 2*PruneBatch + 7
		insert(expired, start.Add(-2*PruneMargin))
		insert(5, start.Add(time.Hour))
		p, err := s.Prune(ctx, start)
		if err != nil || p.RefreshTokens != int64(expired) || p.More {
			t.Fatalf("pruned %+v (%v), want %d in three batches", p, err, expired)
		}
		if n := refreshRows(t, db); n != 5 {
			t.Fatalf("%d credentials left, want the 5 live ones", n)
		}
		insert(PruneBatch*PruneBatches+1, start.Add(-2*PruneMargin))
		if p, err := s.Prune(ctx, start); err != nil || p.RefreshTokens != PruneBatch*PruneBatches || !p.More {
			t.Fatalf("pruned %+v (%v), want %d batches and more left", p, err, PruneBatches)
		}
		if n := refreshRows(t, db); n != 6 {
			t.Fatalf("%d credentials left, want the one beyond the run's batches and the 5 live ones", n)
		}
	})
}
