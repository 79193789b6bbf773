package rtm

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// A socket token stands for its principal once, on any node sharing the
// database, within its lifetime: a second use, a use past 60 s, a token
// of another shape and one whose access token has expired are refused;
// of racing uses exactly one wins.
func TestSocketTokensSingleUseAcrossNodes(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			c := database.NewCommitter(db, nil, database.CommitterOptions{})
			t.Cleanup(c.Close)
			now := time.Now()
			clock := func() time.Time { return now }
			// Two nodes: one issues, the other takes.
			a, b := NewTokens(db, c), NewTokens(db, c)
			a.now, b.now = clock, clock
			ctx := context.Background()
			p := switchboard.Principal{ID: "operator-1", Role: switchboard.RoleOperator, DisplayName: "Op One",
				Tenant: "acme", ExpiresAt: now.Add(time.Hour)}

			tok, err := a.Issue(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Take(ctx, tok)
			if err != nil || got.ID != p.ID || got.Tenant != p.Tenant || got.Role != p.Role || !got.ExpiresAt.Equal(p.ExpiresAt) {
				t.Fatalf("first use: %+v, %v", got, err)
			}
			if _, err := a.Take(ctx, tok); switchboard.ErrorCode(err) != switchboard.ETOKENINVALID {
				t.Fatalf("second use: %v, want TOKEN_INVALID", err)
			}

			late, _ := a.Issue(ctx, p)
			now = now.Add(TokenLifetime + time.Second)
			if _, err := b.Take(ctx, late); switchboard.ErrorCode(err) != switchboard.ETOKENEXPIRED {
				t.Fatalf("after 61 s: %v, want TOKEN_EXPIRED", err)
			}
			for _, bad := range []string{"", "rtm_", "rtm_nope", "eyJhbGciOi.x.y"} {
				if _, err := b.Take(ctx, bad); switchboard.ErrorCode(err) != switchboard.ETOKENINVALID {
					t.Errorf("%q: %v, want TOKEN_INVALID", bad, err)
				}
			}
			short := p
			short.ExpiresAt = now.Add(time.Second)
			dying, _ := a.Issue(ctx, short)
			now = now.Add(2 * time.Second)
			if _, err := b.Take(ctx, dying); switchboard.ErrorCode(err) != switchboard.ETOKENEXPIRED {
				t.Fatalf("access token expired: %v, want TOKEN_EXPIRED", err)
			}

			raced, _ := a.Issue(ctx, p)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func(tk *Tokens) {
					defer wg.Done()
					if _, err := tk.Take(ctx, raced); err == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}([]*Tokens{a, b}[i%2])
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d of 8 racing uses won, want 1", wins)
			}
		})
	}
}
