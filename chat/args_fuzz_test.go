package chat

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchboard-chat/switchboard"
)

// FuzzChatArgs feeds arbitrary JSON argument lists to the chat protocol's
// body decoders (chatserver_args.go) on every key the payload has, and
// maps every outcome to each server event's result code (wire.go): each
// decoder returns a value within its limits or an INVALID_REQUEST naming
// the field, never panics, and every code is in the event's enumeration.
// (app's FuzzChatEvent sends the same over the wire.)
func FuzzChatArgs(f *testing.F) {
	for _, seed := range []string{
		`[{"headers":{},"payload":{"members":["operator-1"],"title":"Help","desc":"d","sesType":"ONETOONE"}}]`,
		`[{"headers":{},"payload":{"chatSessionId":"s-1","msg":"hi","msgType":"USER","metadata":{"CLASS":"CATEGORY"}}}]`,
		`[{"headers":{},"payload":{"chatSessionId":"s-1","offset":0,"numOfRes":20,"offsetMsg":1.5,"numOfResMsg":-1}}]`,
		`[{"headers":{},"payload":{"criteria":{"textSearch":{"searchKey":"x","components":["SESSION_TITLE"],"sesTypes":["ONETOMANY"]},"fromDate":"2024-01-01T00:00:00.000Z","toDate":"bad","sessionAges":["RECENT"]}}}]`,
		`[{"headers":{},"payload":{"chatSessionIds":["s-1",""],"starred":"yes","status":"BUSY","action":"TYPING"}}]`,
		`[{"headers":{},"payload":null}]`,
		`["not an envelope"]`,
		`[]`,
	} {
		f.Add(seed)
	}
	lim := Limits{MaxText: 64, MaxName: 16, MaxDesc: 32, MaxMetadata: 64, MaxItems: 4, MaxMembers: 3}.WithDefaults()
	f.Fuzz(func(t *testing.T, raw string) {
		var a []any
		if json.Unmarshal([]byte(raw), &a) != nil {
			return
		}
		p, err := payloadOf(a)
		checkResult(t, err)
		if err != nil {
			return
		}
		for key := range p {
			checkBody(t, lim, p, key)
			if inner, err := p.object(key); err == nil {
				for k := range inner {
					checkBody(t, lim, inner, k)
				}
			}
		}
	})
}

// checkBody runs every decoder of body on key.
func checkBody(t *testing.T, lim Limits, b body, key string) {
	t.Helper()
	if s, err := b.str(key, true, lim.MaxName); checkResult(t, err) && (s == "" || len(s) > lim.MaxName) {
		t.Fatalf("str %s = %q", key, s)
	}
	if s, err := b.optStr(key, lim.MaxName); checkResult(t, err) && s != nil && len(*s) > lim.MaxName {
		t.Fatalf("optStr %s = %q", key, *s)
	}
	if l, err := b.list(key, true, lim.MaxItems, lim.MaxName); checkResult(t, err) {
		if len(l) == 0 || len(l) > lim.MaxItems || slices.ContainsFunc(l, func(s string) bool { return s == "" || len(s) > lim.MaxName }) {
			t.Fatalf("list %s = %q", key, l)
		}
	}
	if n, err := b.integer(key, 7, 100); checkResult(t, err) && (n < 0 || n > 100) {
		t.Fatalf("integer %s = %d", key, n)
	}
	_, err := b.boolean(key)
	checkResult(t, err)
	if s, err := b.enum(key, false, string(OneToOne), string(OneToMany)); checkResult(t, err) && s != "" && s != string(OneToOne) && s != string(OneToMany) {
		t.Fatalf("enum %s = %q", key, s)
	}
	if l, err := b.enums(key, AgeRecent, AgeArchived); checkResult(t, err) {
		for _, s := range l {
			if s != AgeRecent && s != AgeArchived {
				t.Fatalf("enums %s = %q", key, l)
			}
		}
	}
	if raw, err := b.metadata(key, lim.MaxMetadata); checkResult(t, err) && raw != nil && (len(raw) > lim.MaxMetadata || !json.Valid(raw)) {
		t.Fatalf("metadata %s = %s", key, raw)
	}
	_, err = b.time(key)
	checkResult(t, err)
}

// checkResult fails unless err is nil or an INVALID_REQUEST with a
// message that every server event reports with a code of its own
// enumeration; it reports whether err is nil.
func checkResult(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return true
	}
	if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) == "" {
		t.Fatalf("decoder error %v is not a clear INVALID_REQUEST", err)
	}
	for event, allowed := range resultCodes {
		if code := ResultCode(event, err); code != ResultException && !slices.Contains(allowed, code) {
			t.Fatalf("%s reports %v as %s, outside its enumeration %v", event, err, code, allowed)
		}
	}
	return false
}
