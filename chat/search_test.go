package chat_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
)

var searchNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) int64 { return searchNow.Add(-d).UnixMilli() }

const day = 24 * time.Hour

// searchFixture stores, for tenant acme (user ann searching):
//
//	s1 ONETOONE  "Refund request" ann, bob       updated 1h ago, created 30d ago
//	s2 ONETOMANY "Team chat!"     ann, bob, cat  updated 2h ago
//	s3 ONETOONE  "100% done"      ann, dan       updated 10d ago (ARCHIVED)
//	s4 ONETOONE  "100 percent"    ann, cat       updated 3h ago, archived by ann since the last refresh
//	s5 ONETOONE  "Refund old"     ann (left), bob
//	s6 ONETOONE  "Refund secret"  bob, cat
//
// and in tenant other, o1 "Refund talk" between users with acme's ids.
func searchFixture(t *testing.T, dialect string) *database.DB {
	t.Helper()
	db := testdb.Open(t, dialect)
	users := []chat.User{
		{Tenant: "acme", ID: "ann", Role: "user", Username: "ann.s", FullName: "Ann Smith"},
		{Tenant: "acme", ID: "bob", Role: "operator", Username: "bobby", FullName: "Bob Stone"},
		{Tenant: "acme", ID: "cat", Role: "user", Username: "kitty"},
		// dan has no users row: it is known by its id.
		{Tenant: "other", ID: "ann", Role: "user", Username: "ann", FullName: "Other Ann"},
		{Tenant: "other", ID: "bob", Role: "user", Username: "zed", FullName: "Zed"},
	}
	for _, u := range users {
		u.CreatedAt, u.UpdatedAt, u.Status = 1, 1, "AVAILABLE"
		must(t, db.Create(&u).Error)
	}
	session := func(tenant, id string, typ chat.SessionType, title string, created int64, members ...string) {
		var ms []chat.Member
		for _, u := range members {
			ms = append(ms, chat.Member{SessionID: id, UserID: u, Role: chat.MemberMember, JoinedAt: created})
		}
		must(t, chat.CreateSession(db.DB, chat.Session{ID: id, Tenant: tenant, Type: typ, Title: title, CreatorID: members[0],
			CreatedAt: created, UpdatedAt: created}, ms...))
	}
	msg := func(tenant, session, id, sender string, typ int, content string, at int64) {
		_, err := chat.InsertMessage(db.DB, &chat.Message{ID: id, SessionID: session, Tenant: tenant, Kind: chat.KindUser,
			Type: typ, Content: content, SenderID: sender, CreatedAt: at})
		must(t, err)
	}
	session("acme", "s1", chat.OneToOne, "Refund request", ago(30*day), "ann", "bob")
	msg("acme", "s1", "m1", "ann", chat.TypeText, "hello", ago(30*day))
	msg("acme", "s1", "m2", "ann", chat.TypeText, "I want a REFUND please", ago(2*day))
	msg("acme", "s1", "m4", "bob", chat.TypeImage, "refund.png", ago(day))
	msg("acme", "s1", "m5", "bob", chat.TypeText, "refund, no wait", ago(20*time.Hour))
	must(t, db.Exec(`UPDATE messages SET removed_at = ? WHERE id = 'm5'`, ago(19*time.Hour)).Error)
	msg("acme", "s1", "m3", "bob", chat.TypeText, "Refund approved", ago(time.Hour))

	session("acme", "s2", chat.OneToMany, "Team chat!", ago(5*day), "ann", "bob", "cat")
	msg("acme", "s2", "m6", "cat", chat.TypeText, "lunch?", ago(2*time.Hour))
	session("acme", "s3", chat.OneToOne, "100% done", ago(20*day), "ann", "dan")
	msg("acme", "s3", "m7", "dan", chat.TypeText, "50% off_sale", ago(10*day))
	session("acme", "s4", chat.OneToOne, "100 percent", ago(4*day), "ann", "cat")
	msg("acme", "s4", "m8", "cat", chat.TypeText, "50 percent offxsale", ago(3*time.Hour))
	session("acme", "s5", chat.OneToOne, "Refund old", ago(3*day), "ann", "bob")
	must(t, chat.Leave(db.DB, "s5", "ann", ago(2*day)))
	session("acme", "s6", chat.OneToOne, "Refund secret", ago(3*day), "bob", "cat")
	msg("acme", "s6", "m9", "bob", chat.TypeText, "refund for cat", ago(3*day))
	session("other", "o1", chat.OneToOne, "Refund talk", ago(day), "ann", "bob")
	msg("other", "o1", "m10", "bob", chat.TypeText, "refund in the other tenant", ago(day))

	_, err := chat.RefreshAges(db.DB, searchNow, chat.DefaultArchiveAfter)
	must(t, err)
	// ann archives s4 after the last refresh: its stored age is still
	// RECENT.
	must(t, db.Exec(`UPDATE chat_members SET archived = TRUE WHERE session_id = 's4' AND user_id = 'ann'`).Error)
	return db
}

// hitsOf renders hits as "session:message,message" for comparison.
func hitsOf(hits []chat.SearchHit) []string {
	out := []string{}
	for _, h := range hits {
		s := h.SessionID + ":"
		for i, m := range h.Messages {
			if i > 0 {
				s += ","
			}
			s += m.ID
		}
		if h.MessageCount != int64(len(h.Messages)) {
			s += fmt.Sprintf("/%d", h.MessageCount)
		}
		out = append(out, s)
	}
	return out
}

func TestSearch(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := searchFixture(t, dialect)
			ann := func(q chat.SearchQuery) chat.SearchQuery {
				q.Tenant, q.UserID = "acme", "ann"
				if q.NumOfResMsg == 0 {
					q.NumOfResMsg = -1 // sessions only, unless the case is about messages
				}
				return q
			}
			title := []string{"SESSION_TITLE"}
			body := []string{"MESSAGES_BODY"}
			for _, tc := range []struct {
				name string
				q    chat.SearchQuery
				want []string
			}{
				{"title", ann(chat.SearchQuery{Key: "refund", Components: title}), []string{"s1:"}},
				{"title, any case", ann(chat.SearchQuery{Key: "REQUEST", Components: title}), []string{"s1:"}},
				{"title, no match", ann(chat.SearchQuery{Key: "invoice", Components: title}), []string{}},
				{"display name", ann(chat.SearchQuery{Key: "stone", Components: []string{"MEMBERS_DISPLAY_NAME"}}), []string{"s1:", "s2:"}},
				{"display name falls back to the username", ann(chat.SearchQuery{Key: "KITTY", Components: []string{"MEMBERS_DISPLAY_NAME"}}), []string{"s2:", "s4:"}},
				{"display name falls back to the id", ann(chat.SearchQuery{Key: "dan", Components: []string{"MEMBERS_DISPLAY_NAME"}}), []string{"s3:"}},
				{"the searcher's own name matches nothing", ann(chat.SearchQuery{Key: "smith", Components: []string{"MEMBERS_DISPLAY_NAME"}}), []string{}},
				{"another tenant's profile is not a member's name", ann(chat.SearchQuery{Key: "zed", Components: []string{"MEMBERS_DISPLAY_NAME", "MEMBERS_USERNAME"}}), []string{}},
				{"username", ann(chat.SearchQuery{Key: "bobby", Components: []string{"MEMBERS_USERNAME"}}), []string{"s1:", "s2:"}},
				{"username is also the id", ann(chat.SearchQuery{Key: "ca", Components: []string{"MEMBERS_USERNAME"}}), []string{"s2:", "s4:"}},
				{"username is not the display name", ann(chat.SearchQuery{Key: "stone", Components: []string{"MEMBERS_USERNAME"}}), []string{}},
				{"message bodies: texts, not images or removed ones", ann(chat.SearchQuery{Key: "refund", Components: body, NumOfResMsg: 10}), []string{"s1:m3,m2"}},
				{"every component by default", ann(chat.SearchQuery{Key: "refund", NumOfResMsg: 10}), []string{"s1:m3,m2"}},
				{"title match shows the latest messages", ann(chat.SearchQuery{Key: "team", Components: title, NumOfResMsg: 10}), []string{"s2:m6"}},
				{"body search of a title-only match shows none", ann(chat.SearchQuery{Key: "team", NumOfResMsg: 10}), []string{"s2:"}},
				{"% is literal", ann(chat.SearchQuery{Key: "%", Components: title}), []string{"s3:"}},
				{"_ is literal", ann(chat.SearchQuery{Key: "f_s", Components: body, NumOfResMsg: 10}), []string{"s3:m7"}},
				{"! is literal", ann(chat.SearchQuery{Key: "!", Components: title}), []string{"s2:"}},
				{"everything", ann(chat.SearchQuery{}), []string{"s1:", "s2:", "s4:", "s3:"}},
				{"session ids", ann(chat.SearchQuery{SessionIDs: []string{"s4", "s2", "s6", "o1"}}), []string{"s2:", "s4:"}},
				{"session types", ann(chat.SearchQuery{SessionTypes: []chat.SessionType{chat.OneToMany}}), []string{"s2:"}},
				{"archived", ann(chat.SearchQuery{SessionAges: []string{chat.AgeArchived}}), []string{"s3:"}},
				{"recent", ann(chat.SearchQuery{SessionAges: []string{chat.AgeRecent}}), []string{"s1:", "s2:", "s4:"}},
				{"both ages", ann(chat.SearchQuery{SessionAges: []string{chat.AgeRecent, chat.AgeArchived}}), []string{"s1:", "s2:", "s4:", "s3:"}},
				{"ages judged now: s4 archived after the last refresh", ann(chat.SearchQuery{SessionAges: []string{chat.AgeArchived},
					AgeCutoff: searchNow.Add(-chat.DefaultArchiveAfter).UnixMilli()}), []string{"s4:", "s3:"}},
				{"ages judged now: recent", ann(chat.SearchQuery{SessionAges: []string{chat.AgeRecent},
					AgeCutoff: searchNow.Add(-chat.DefaultArchiveAfter).UnixMilli()}), []string{"s1:", "s2:"}},
				{"key is trimmed", ann(chat.SearchQuery{Key: "  refund\t", Components: title}), []string{"s1:"}},
				{"updated since", ann(chat.SearchQuery{FromDate: searchNow.Add(-150 * time.Minute)}), []string{"s1:", "s2:"}},
				{"created by", ann(chat.SearchQuery{ToDate: searchNow.Add(-10 * day)}), []string{"s1:", "s3:"}},
				{"messages within the dates", ann(chat.SearchQuery{Key: "refund", Components: body, NumOfResMsg: 10,
					FromDate: searchNow.Add(-3 * day), ToDate: searchNow.Add(-day)}), []string{"s1:m2"}},
				{"sessions page", ann(chat.SearchQuery{Offset: 1, NumOfRes: 2}), []string{"s2:", "s4:"}},
				{"sessions page past the end", ann(chat.SearchQuery{Offset: 4, NumOfRes: 2}), []string{}},
				{"no sessions asked for", ann(chat.SearchQuery{NumOfRes: -1}), []string{}},
				{"no messages asked for", ann(chat.SearchQuery{SessionIDs: []string{"s1"}}), []string{"s1:"}},
				{"latest messages", ann(chat.SearchQuery{SessionIDs: []string{"s1"}, NumOfResMsg: 10}), []string{"s1:m3,m4,m2,m1"}},
				{"messages page", ann(chat.SearchQuery{SessionIDs: []string{"s1"}, OffsetMsg: 1, NumOfResMsg: 2}), []string{"s1:m4,m2/4"}},
				{"messages page past the end", ann(chat.SearchQuery{SessionIDs: []string{"s1"}, OffsetMsg: 9, NumOfResMsg: 2}), []string{"s1:/4"}},
				{"other tenant, same user id", chat.SearchQuery{Tenant: "other", UserID: "ann", Key: "refund", NumOfResMsg: 10}, []string{"o1:m10"}},
				{"other tenant, member names are its own", chat.SearchQuery{Tenant: "other", UserID: "ann", Key: "zed"}, []string{"o1:"}},
			} {
				hits, err := chat.Search(db.DB, db.Dialect, tc.q)
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
					continue
				}
				if got := hitsOf(hits); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
				}
				if tc.q.Offset == 0 && tc.q.NumOfRes == 0 {
					n, err := chat.CountSearch(db.DB, db.Dialect, tc.q)
					if err != nil || n != int64(len(tc.want)) {
						t.Errorf("%s: CountSearch = %d, %v; want %d", tc.name, n, err, len(tc.want))
					}
				}
			}
			if n, err := chat.CountSearch(db.DB, db.Dialect, ann(chat.SearchQuery{Offset: 1, NumOfRes: 1})); err != nil || n != 4 {
				t.Errorf("CountSearch ignores pages: %d, %v; want 4", n, err)
			}
		})
	}
}

// Word search on PostgreSQL: every word of the key, in any order.
func TestSearchWordsOnPostgres(t *testing.T) {
	db := searchFixture(t, "postgres")
	hits, err := chat.Search(db.DB, db.Dialect, chat.SearchQuery{Tenant: "acme", UserID: "ann", Key: "please refund",
		Components: []string{"MESSAGES_BODY"}, NumOfResMsg: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := hitsOf(hits); !reflect.DeepEqual(got, []string{"s1:m2"}) {
		t.Errorf("got %v, want s1 with m2", got)
	}
}

func TestSearchRejects(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	for _, q := range []chat.SearchQuery{
		{Tenant: "acme", UserID: "ann", Components: []string{"SUBJECT"}},
		{Tenant: "acme", UserID: "ann", SessionAges: []string{"OLD"}},
		{Tenant: "acme", UserID: "ann", FromDate: searchNow, ToDate: searchNow.Add(-time.Hour)},
	} {
		if _, err := chat.Search(db.DB, db.Dialect, q); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("Search(%+v) = %v, want INVALID_REQUEST", q, err)
		}
	}
	if _, err := chat.Search(db.DB, db.Dialect, chat.SearchQuery{Tenant: "acme"}); err == nil {
		t.Error("Search without a user succeeded")
	}
}
