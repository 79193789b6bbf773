package chat_test

import (
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

func forDialects(t *testing.T, f func(t *testing.T, db *gorm.DB)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) { f(t, testdb.Open(t, d).DB) })
	}
}

func str(s string) *string   { return &s }
func num(f float64) *float64 { return &f }
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func findUser(t *testing.T, db *gorm.DB, tenant, id string) chat.User {
	t.Helper()
	u, found, err := chat.FindUser(db, tenant, id)
	if err != nil || !found {
		t.Fatalf("FindUser(%s, %s) = found %v, %v", tenant, id, found, err)
	}
	return u
}

func TestUpdateProfile(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		base := chat.User{Tenant: "acme", ID: "u1", Role: "user", Username: "ann"}
		must(t, chat.UpdateProfile(db, base, chat.Profile{FullName: str("Ann Smith"), Email: str("ann@example.com"),
			Latitude: num(52.5)}, 1000))
		u := findUser(t, db, "acme", "u1")
		want := chat.User{Tenant: "acme", ID: "u1", Role: "user", Username: "ann", FullName: "Ann Smith",
			Email: "ann@example.com", Latitude: num(52.5), Status: "AVAILABLE", CreatedAt: 1000, UpdatedAt: 1000}
		if !reflect.DeepEqual(u, want) {
			t.Fatalf("after insert:\n got %+v\nwant %+v", u, want)
		}

		// Only the fields given change; the rest stay as stored.
		must(t, chat.UpdateProfile(db, chat.User{Tenant: "acme", ID: "u1", Role: "user", Username: "other"},
			chat.Profile{Gender: str("F"), Longitude: num(13.4), Email: str("")}, 2000))
		u = findUser(t, db, "acme", "u1")
		want.Gender, want.Longitude, want.Email, want.UpdatedAt = "F", num(13.4), "", 2000
		if !reflect.DeepEqual(u, want) {
			t.Fatalf("after update:\n got %+v\nwant %+v", u, want)
		}
		if u.DisplayName() != "Ann Smith" {
			t.Fatalf("DisplayName = %q", u.DisplayName())
		}

		// EnsureUser keeps the profile it finds.
		must(t, chat.EnsureUser(db, chat.User{Tenant: "acme", ID: "u1", Role: "user", Username: "ann2",
			FullName: "Token Name", CreatedAt: 3000, UpdatedAt: 3000}))
		u = findUser(t, db, "acme", "u1")
		if u.FullName != "Ann Smith" || u.Email != "" || u.Gender != "F" || u.CreatedAt != 1000 {
			t.Fatalf("EnsureUser changed the profile: %+v", u)
		}

		// The same id in another tenant is another user.
		if _, found, err := chat.FindUser(db, "beta", "u1"); err != nil || found {
			t.Fatalf("FindUser in another tenant = found %v, %v", found, err)
		}
		must(t, chat.UpdateProfile(db, chat.User{Tenant: "beta", ID: "u1", Role: "user"}, chat.Profile{}, 4000))
		if b := findUser(t, db, "beta", "u1"); b.FullName != "" || b.DisplayName() != "u1" {
			t.Fatalf("beta/u1 = %+v", b)
		}
		if a := findUser(t, db, "acme", "u1"); a.FullName != "Ann Smith" {
			t.Fatalf("acme/u1 changed by beta's insert: %+v", a)
		}
	})
}

func members(t *testing.T, db *gorm.DB, session string) []chat.Member {
	t.Helper()
	var ms []chat.Member
	must(t, db.Where("session_id = ?", session).Order("user_id").Find(&ms).Error)
	return ms
}

func TestJoinLeave(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		must(t, chat.CreateSession(db, chat.Session{ID: "s1", Tenant: "acme", Type: chat.OneToOne, CreatorID: "u1",
			CreatedAt: 1, UpdatedAt: 1}, chat.Member{SessionID: "s1", UserID: "u1", Role: chat.MemberOwner, JoinedAt: 1}))
		must(t, chat.Join(db, "s1", "op1", chat.MemberHandler, 10))
		want := []chat.Member{
			{SessionID: "s1", UserID: "op1", Role: chat.MemberHandler, JoinedAt: 10},
			{SessionID: "s1", UserID: "u1", Role: chat.MemberOwner, JoinedAt: 1},
		}
		if got := members(t, db, "s1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after join:\n got %+v\nwant %+v", got, want)
		}
		must(t, chat.Leave(db, "s1", "op1", 20))
		must(t, chat.Leave(db, "s1", "op1", 30)) // already out: keeps the first time
		must(t, chat.Leave(db, "s1", "nobody", 30))
		want[0].LeftAt = 20
		if got := members(t, db, "s1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after leave:\n got %+v\nwant %+v", got, want)
		}
		// Joining again brings the member back, with the new role.
		must(t, chat.Join(db, "s1", "op1", chat.MemberMember, 40))
		want[0] = chat.Member{SessionID: "s1", UserID: "op1", Role: chat.MemberMember, JoinedAt: 40}
		if got := members(t, db, "s1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("after rejoin:\n got %+v\nwant %+v", got, want)
		}
		if got := members(t, db, "s2"); len(got) != 0 {
			t.Fatalf("members of an unknown session = %+v", got)
		}
	})
}

// seed stores messages in order and returns them with their Seq.
func seed(t *testing.T, db *gorm.DB, ms ...chat.Message) []chat.Message {
	t.Helper()
	for i := range ms {
		m := &ms[i]
		if m.Tenant == "" {
			m.Tenant = "acme"
		}
		if m.Kind == "" {
			m.Kind = chat.KindUser
		}
		if m.Type == 0 {
			m.Type = chat.TypeText
		}
		if m.Encoding == "" {
			m.Encoding = "utf-8"
		}
		if m.StatusID == 0 {
			m.StatusID = chat.StatusSent
		}
		inserted, err := chat.InsertMessage(db, m)
		if err != nil || !inserted || m.Seq == 0 {
			t.Fatalf("InsertMessage(%s) = %v, %v (seq %d)", m.ID, inserted, err, m.Seq)
		}
	}
	return ms
}

func message(t *testing.T, db *gorm.DB, id string) chat.Message {
	t.Helper()
	m, found, err := chat.FindMessage(db, "acme", id)
	if err != nil || !found {
		t.Fatalf("FindMessage(%s) = found %v, %v", id, found, err)
	}
	return m
}

func TestInsertMessageDuplicate(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		seed(t, db, chat.Message{ID: "m1", SessionID: "s1", SenderID: "u1", Content: "first", CreatedAt: 1})
		dup := chat.Message{ID: "m1", SessionID: "s2", Tenant: "beta", Kind: chat.KindUser, Type: 1,
			SenderID: "u2", Content: "second", StatusID: 1, CreatedAt: 2}
		inserted, err := chat.InsertMessage(db, &dup)
		if err != nil || inserted {
			t.Fatalf("InsertMessage(duplicate id) = %v, %v; want false, nil", inserted, err)
		}
		if m := message(t, db, "m1"); m.Content != "first" || m.SessionID != "s1" {
			t.Fatalf("the duplicate overwrote m1: %+v", m)
		}
		if _, found, err := chat.FindMessage(db, "beta", "m1"); err != nil || found {
			t.Fatalf("FindMessage in another tenant = found %v, %v", found, err)
		}
	})
}

func TestReaddress(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		seed(t, db,
			chat.Message{ID: "a", SessionID: "s1", SenderID: "u1", CreatedAt: 1},
			chat.Message{ID: "b", SessionID: "s1", SenderID: "u1", RecipientID: "op1", RecipientName: "Op 1", StatusID: chat.StatusDelivered, CreatedAt: 2},
			chat.Message{ID: "c", SessionID: "s1", SenderID: "u1", RecipientID: "op1", RecipientName: "Op 1", StatusID: chat.StatusRead, CreatedAt: 3},
			chat.Message{ID: "d", SessionID: "s1", SenderID: "op1", RecipientID: "u1", RecipientName: "User 1", CreatedAt: 4},
			chat.Message{ID: "e", SessionID: "s2", SenderID: "u1", CreatedAt: 5},
		)
		must(t, chat.Readdress(db, "s1", "u1", "op2", "Op 2"))
		for id, want := range map[string]string{"a": "op2/Op 2", "b": "op2/Op 2", "c": "op1/Op 1", "d": "u1/User 1", "e": "/"} {
			m := message(t, db, id)
			if got := m.RecipientID + "/" + m.RecipientName; got != want {
				t.Errorf("%s addressed to %q, want %q", id, got, want)
			}
		}
		if m := message(t, db, "b"); m.StatusID != chat.StatusDelivered {
			t.Fatalf("Readdress changed b's status to %d", m.StatusID)
		}
	})
}

func TestSetStatus(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		ms := seed(t, db,
			chat.Message{ID: "a", SessionID: "s1", SenderID: "u1", RecipientID: "op1", CreatedAt: 1},
			chat.Message{ID: "b", SessionID: "s1", SenderID: "u1", RecipientID: "op1", CreatedAt: 2},
			chat.Message{ID: "c", SessionID: "s1", SenderID: "u1", RecipientID: "op1", CreatedAt: 3},
		)
		must(t, chat.SetStatus(db, nil, chat.StatusRead, false, 5)) // nothing to do
		must(t, chat.SetStatus(db, []int64{ms[0].Seq, ms[1].Seq}, chat.StatusDelivered, true, 10))
		must(t, chat.SetStatus(db, []int64{ms[1].Seq, ms[2].Seq}, chat.StatusRead, false, 20))
		// Moving back (or staying) changes nothing, not even the flag.
		must(t, chat.SetStatus(db, []int64{ms[0].Seq, ms[1].Seq, ms[2].Seq}, chat.StatusDelivered, false, 30))
		must(t, chat.SetStatus(db, []int64{ms[2].Seq}, chat.StatusSent, true, 40))
		type state struct {
			Status              int
			Flag                bool
			DeliveredAt, ReadAt int64
		}
		want := map[string]state{
			"a": {chat.StatusDelivered, true, 10, 0},
			"b": {chat.StatusRead, false, 10, 20},
			"c": {chat.StatusRead, false, 20, 20},
		}
		for id, w := range want {
			m := message(t, db, id)
			if got := (state{m.StatusID, m.StatusFlag, m.DeliveredAt, m.ReadAt}); got != w {
				t.Errorf("%s = %+v, want %+v", id, got, w)
			}
		}
	})
}

func TestMessagesSince(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		ms := seed(t, db,
			chat.Message{ID: "z", SessionID: "s1", SenderID: "u1", CreatedAt: 100},
			chat.Message{ID: "y", SessionID: "s1", SenderID: "u1", CreatedAt: 100},
			chat.Message{ID: "other", SessionID: "s2", SenderID: "u1", CreatedAt: 100},
			chat.Message{ID: "x", SessionID: "s1", SenderID: "op1", CreatedAt: 101},
			chat.Message{ID: "w", SessionID: "s1", SenderID: "u1", CreatedAt: 102},
		)
		for _, tc := range []struct {
			name  string
			since chat.Since
			want  []string
		}{
			{"everything", chat.Since{}, []string{"z", "y", "x", "w"}},
			{"after z", chat.Since{AfterSeq: ms[0].Seq}, []string{"y", "x", "w"}},
			{"after y", chat.Since{AfterSeq: ms[1].Seq}, []string{"x", "w"}},
			{"after w", chat.Since{AfterSeq: ms[4].Seq}, []string{}},
			{"after 99", chat.Since{AfterMillis: 99}, []string{"z", "y", "x", "w"}},
			{"after 100", chat.Since{AfterMillis: 100}, []string{"x", "w"}},
			{"after 102", chat.Since{AfterMillis: 102}, []string{}},
			{"limit 2", chat.Since{Limit: 2}, []string{"z", "y"}},
			{"after z, limit 2", chat.Since{AfterSeq: ms[0].Seq, Limit: 2}, []string{"y", "x"}},
		} {
			got, err := chat.MessagesSince(db, "s1", tc.since)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
			}
		}
	})
}

func TestFormatMillis(t *testing.T) {
	if got := chat.FormatMillis(0); got != "" {
		t.Fatalf("FormatMillis(0) = %q, want \"\"", got)
	}
	if got, want := chat.FormatMillis(1714557600123), "2024-05-01T10:00:00.123Z"; got != want {
		t.Fatalf("FormatMillis = %q, want %q", got, want)
	}
}

// TestAutomaticTimesAreMillis: a gorm update that does not set updated_at
// stamps it in Unix milliseconds, as every time here is stored (gorm's
// default for an integer UpdatedAt is seconds).
func TestAutomaticTimesAreMillis(t *testing.T) {
	forDialects(t, func(t *testing.T, db *gorm.DB) {
		must(t, chat.UpdateProfile(db, chat.User{Tenant: "acme", ID: "u1", Role: "user"}, chat.Profile{}, 1000))
		before := time.Now().UnixMilli()
		must(t, db.Model(&chat.User{}).Where("tenant = ? AND id = ?", "acme", "u1").Update("status", "AWAY").Error)
		if u := findUser(t, db, "acme", "u1"); u.UpdatedAt < before || u.UpdatedAt > time.Now().UnixMilli() {
			t.Fatalf("updated_at after a status change = %d, want now in ms (≥ %d)", u.UpdatedAt, before)
		}
	})
}
