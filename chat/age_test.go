package chat_test

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/chat"
)

var ageNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func TestAgeOf(t *testing.T) {
	day := 24 * time.Hour
	ms := func(d time.Duration) int64 { return ageNow.Add(-d).UnixMilli() }
	for _, tc := range []struct {
		name              string
		starred, archived bool
		updated           int64
		window            time.Duration
		want              string
	}{
		{"updated today", false, false, ms(0), 7 * day, chat.AgeRecent},
		{"updated exactly a window ago", false, false, ms(7 * day), 7 * day, chat.AgeRecent},
		{"updated a moment before the window", false, false, ms(7*day) - 1, 7 * day, chat.AgeArchived},
		{"untouched for 8 days", false, false, ms(8 * day), 7 * day, chat.AgeArchived},
		{"starred, untouched for 8 days", true, false, ms(8 * day), 7 * day, chat.AgeRecent},
		{"starred, updated today", true, false, ms(0), 7 * day, chat.AgeRecent},
		{"archived, updated today", false, true, ms(0), 7 * day, chat.AgeArchived},
		{"archived, untouched", false, true, ms(30 * day), 7 * day, chat.AgeArchived},
		{"starred and archived: archiving wins", true, true, ms(0), 7 * day, chat.AgeArchived},
		{"starred and archived, untouched", true, true, ms(30 * day), 7 * day, chat.AgeArchived},
		{"never updated (0)", false, false, 0, 7 * day, chat.AgeArchived},
		{"window 0 means 7 days: 6 days", false, false, ms(6 * day), 0, chat.AgeRecent},
		{"window 0 means 7 days: 8 days", false, false, ms(8 * day), 0, chat.AgeArchived},
		{"one-hour window, 2 hours", false, false, ms(2 * time.Hour), time.Hour, chat.AgeArchived},
		{"one-hour window, 59 minutes", false, false, ms(59 * time.Minute), time.Hour, chat.AgeRecent},
	} {
		if got := chat.AgeOf(tc.starred, tc.archived, tc.updated, ageNow, tc.window); got != tc.want {
			t.Errorf("%s: AgeOf = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// ageRow is a membership with what RefreshAges reads and writes.
type ageRow struct {
	SessionID string
	UserID    string
	Starred   bool
	Archived  bool
	Age       string
	UpdatedAt int64
}

func ageRows(t *testing.T, db *gorm.DB) []ageRow {
	t.Helper()
	var rows []ageRow
	must(t, db.Raw(`SELECT m.session_id, m.user_id, m.starred, m.archived, m.age, s.updated_at
		FROM chat_members m JOIN chat_sessions s ON s.id = m.session_id ORDER BY m.session_id, m.user_id`).Scan(&rows).Error)
	return rows
}

// Every combination of star, archive mark, session age and stored age
// ends up as AgeOf says, and a second run changes nothing.
func TestRefreshAges(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		window := 7 * 24 * time.Hour
		updated := map[string]int64{
			"fresh": ageNow.Add(-24 * time.Hour).UnixMilli(),
			"old":   ageNow.Add(-8 * 24 * time.Hour).UnixMilli(),
		}
		wantChanged := int64(0)
		for name, at := range updated {
			var members []chat.Member
			stored := map[string]string{}
			for i, flags := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, age := range []string{chat.AgeRecent, chat.AgeArchived} {
					m := chat.Member{SessionID: name, UserID: fmt.Sprintf("u%d-%s", i, age), Role: chat.MemberMember,
						JoinedAt: 1, Starred: flags[0], Archived: flags[1]}
					if chat.AgeOf(m.Starred, m.Archived, at, ageNow, window) != age {
						wantChanged++
					}
					members, stored[m.UserID] = append(members, m), age
				}
			}
			must(t, chat.CreateSession(db, chat.Session{ID: name, Tenant: "acme", Type: chat.OneToMany, CreatorID: "u0",
				CreatedAt: 1, UpdatedAt: at}, members...))
			for user, age := range stored {
				must(t, db.Exec(`UPDATE chat_members SET age = ? WHERE session_id = ? AND user_id = ?`, age, name, user).Error)
			}
		}
		changed, err := chat.RefreshAges(db, ageNow, window)
		if err != nil || changed != wantChanged {
			t.Fatalf("RefreshAges = %d, %v; want %d changed", changed, err, wantChanged)
		}
		rows := ageRows(t, db)
		if len(rows) != 16 {
			t.Fatalf("%d memberships, want 16", len(rows))
		}
		for _, r := range rows {
			if want := chat.AgeOf(r.Starred, r.Archived, r.UpdatedAt, ageNow, window); r.Age != want {
				t.Errorf("%+v: age %s, want %s", r, r.Age, want)
			}
		}
		if changed, err := chat.RefreshAges(db, ageNow, window); err != nil || changed != 0 {
			t.Fatalf("second RefreshAges = %d, %v; want nothing to change", changed, err)
		}
		// A week on, the fresh session has aged too, except where starred.
		later := ageNow.Add(7 * 24 * time.Hour)
		if _, err := chat.RefreshAges(db, later, window); err != nil {
			t.Fatal(err)
		}
		for _, r := range ageRows(t, db) {
			if want := chat.AgeOf(r.Starred, r.Archived, r.UpdatedAt, later, window); r.Age != want || (!r.Starred && r.Age != chat.AgeArchived) {
				t.Errorf("a week later %+v: age %s, want %s", r, r.Age, want)
			}
		}
	})
}

// RefreshSessionAges changes only the sessions it is given.
func TestRefreshSessionAges(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		old := ageNow.Add(-30 * 24 * time.Hour).UnixMilli()
		for _, id := range []string{"a", "b"} {
			must(t, chat.CreateSession(db, chat.Session{ID: id, Tenant: "acme", Type: chat.OneToOne, CreatorID: "u1",
				CreatedAt: old, UpdatedAt: old}, chat.Member{SessionID: id, UserID: "u1", Role: chat.MemberOwner, JoinedAt: old}))
		}
		changed, err := chat.RefreshSessionAges(db, []string{"a"}, ageNow, 0)
		if err != nil || changed != 1 {
			t.Fatalf("RefreshSessionAges = %d, %v; want 1", changed, err)
		}
		if changed, err := chat.RefreshSessionAges(db, nil, ageNow, 0); err != nil || changed != 0 {
			t.Fatalf("RefreshSessionAges(no sessions) = %d, %v", changed, err)
		}
		got := map[string]string{}
		for _, r := range ageRows(t, db) {
			got[r.SessionID] = r.Age
		}
		if got["a"] != chat.AgeArchived || got["b"] != chat.AgeRecent {
			t.Errorf("ages %v: want a ARCHIVED, b untouched (RECENT)", got)
		}
	})
}

// A stored message makes its session updated at the message's time (never
// back in time) and RECENT again for every member but those who archived
// it; a message whose id is taken touches nothing. On PostgreSQL the
// insert and the touch are one statement, on SQLite three.
func TestInsertMessageTouchesItsSession(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		must(t, chat.CreateSession(db, chat.Session{ID: "s", Tenant: "acme", Type: chat.OneToOne, CreatorID: "u1",
			CreatedAt: 100, UpdatedAt: 100},
			chat.Member{SessionID: "s", UserID: "u1", Role: chat.MemberOwner, JoinedAt: 100},
			chat.Member{SessionID: "s", UserID: "u2", Role: chat.MemberHandler, JoinedAt: 100, Archived: true}))
		archiveAll := func() {
			must(t, db.Exec(`UPDATE chat_members SET age = ?`, chat.AgeArchived).Error)
		}
		want := func(step string, updated int64, ages ...string) {
			t.Helper()
			rows := ageRows(t, db)
			for i, r := range rows {
				if r.UpdatedAt != updated || r.Age != ages[i] {
					t.Fatalf("%s: %s updated %d, age %s; want %d, %s", step, r.UserID, r.UpdatedAt, r.Age, updated, ages[i])
				}
			}
		}
		archiveAll()
		seed(t, db, chat.Message{ID: "m1", SessionID: "s", SenderID: "u1", Content: "hi", CreatedAt: 200})
		want("a message", 200, chat.AgeRecent, chat.AgeArchived)

		archiveAll()
		dup := chat.Message{ID: "m1", SessionID: "s", Tenant: "acme", Kind: chat.KindUser, Type: 1,
			SenderID: "u1", Content: "again", StatusID: 1, CreatedAt: 300}
		if inserted, err := chat.InsertMessage(db, &dup); err != nil || inserted {
			t.Fatalf("InsertMessage(taken id) = %v, %v; want false, nil", inserted, err)
		}
		want("a taken id", 200, chat.AgeArchived, chat.AgeArchived)

		seed(t, db, chat.Message{ID: "m2", SessionID: "s", SenderID: "u2", Content: "late", CreatedAt: 150})
		want("an older message", 200, chat.AgeRecent, chat.AgeArchived)
	})
}
