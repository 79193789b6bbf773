package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/visitors"
)

// newVisitor asks the node for a visitor token as the widget does: POST
// /api/v1/visitors with no credential at all (body "" for a new visitor).
func newVisitor(t *testing.T, n *node, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(n.base+"/api/v1/visitors", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

// TestVisitorOpensATicket: a visitor with no account gets a token from
// the server, opens a ticket and writes over Socket.IO; an operator signed
// in at the OpenID provider sees and answers it; the visitor's renewed
// token lists the same ticket (a returning visitor keeps its history).
func TestVisitorOpensATicket(t *testing.T) {
	n := startNode(t, t.TempDir())
	status, g := newVisitor(t, n, "")
	if status != 200 {
		t.Fatalf("POST /api/v1/visitors: %d %v", status, g)
	}
	visitorID := "visitor:" + g["visitor_id"].(string)

	op, opEv := dial(t, n, n.token(t, "operator-1"))
	mustAck(t, op, "subscribeOperator")
	user, userEv := dial(t, n, g["access_token"].(string))
	mustAck(t, user, "subscribe", map[string]any{"userId": visitorID})
	if err, _ := emitAck(t, user, "createTicket", "vt-0", map[string]any{"ticketId": "vt-0", "ticketNm": "x",
		"visitorContext": map[string]any{"pageUrl": 42}}).(map[string]any); err["code"] != "INVALID_REQUEST" {
		t.Fatalf("a visitorContext of a number: %v", err)
	}
	context := map[string]any{"pageUrl": "https://shop.example.com/orders/1234", "locale": "de-DE", "plan": "gold"}
	mustAck(t, user, "createTicket", "vt-1", map[string]any{"ticketId": "vt-1", "ticketNm": "Where is my order?",
		"visitorContext": context})
	created := opEv.next(t, "ticketCreated")[0].(map[string]any)
	if created["ownerId"] != visitorID || !strings.HasPrefix(created["ownerNm"].(string), "Visitor ") {
		t.Fatalf("ticketCreated %v, want owner %s", created, visitorID)
	}
	if got, _ := created["visitorContext"].(map[string]any); got["pageUrl"] != context["pageUrl"] || got["plan"] != "gold" {
		t.Fatalf("the operator is not told the visitor's page: %v", created)
	}
	if status, body := rest(t, n, "GET", "/api/v1/tickets", n.token(t, "operator-1"), ""); status != 200 || !mentions(body, "/orders/1234") {
		t.Fatalf("the ticket list does not carry the visitor's context: %d %v", status, body)
	}
	mustAck(t, op, "acceptTicket", "vt-1", created, visitorID)
	mustAck(t, user, "updateMessage", "vt-1", "vm-1", map[string]any{"content": "order 1234", "type": 1}, "operator-1")
	if msg := opEv.next(t, "messageUpdated")[0].(map[string]any); msg["senderId"] != visitorID || msg["content"] != "order 1234" {
		t.Fatalf("the operator got %v", msg)
	}
	mustAck(t, op, "updateMessage", "vt-1", "vm-2", map[string]any{"content": "On its way", "type": 1}, visitorID)
	if msg := userEv.next(t, "messageUpdated")[0].(map[string]any); msg["content"] != "On its way" {
		t.Fatalf("the visitor got %v", msg)
	}

	// Back later: the refresh token renews the same visitor, who finds
	// the conversation; the spent refresh token is refused.
	status, g2 := newVisitor(t, n, `{"refresh_token":"`+g["refresh_token"].(string)+`"}`)
	if status != 200 || g2["visitor_id"] != g["visitor_id"] {
		t.Fatalf("renewal: %d %v", status, g2)
	}
	if status, body := rest(t, n, "GET", "/api/v1/tickets/vt-1/messages", g2["access_token"].(string), ""); status != 200 || !mentions(body, "On its way") {
		t.Fatalf("the returning visitor's history: %d %v", status, body)
	}
	if status, body := newVisitor(t, n, `{"refresh_token":"`+g["refresh_token"].(string)+`"}`); status != 401 {
		t.Fatalf("a spent refresh token: %d %v", status, body)
	}
	// Another visitor sees none of it.
	_, other := newVisitor(t, n, "")
	if status, body := rest(t, n, "GET", "/api/v1/tickets", other["access_token"].(string), ""); status != 200 || mentions(body, "vt-1") {
		t.Fatalf("another visitor lists the ticket: %d %v", status, body)
	}
}

// TestExpiredVisitorTokenRenews: an expired visitor token is refused
// (TOKEN_EXPIRED on the socket and over REST); a renewed one
// authenticates the same socket again.
func TestExpiredVisitorTokenRenews(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), testEnv(map[string]string{
		"SWITCHBOARD_VISITOR_TOKEN_TTL": "2s", "SWITCHBOARD_OIDC_LEEWAY": "-1s"}))
	n := runNode(t, cfg)
	_, g := newVisitor(t, n, "")
	user, userEv := dial(t, n, g["access_token"].(string))
	mustAck(t, user, "subscribe")
	if got := userEv.next(t, "unauthenticated")[0].(map[string]any); got["code"] != "TOKEN_EXPIRED" {
		t.Fatalf("at expiry: %v", got)
	}
	if status, body := rest(t, n, "GET", "/api/v1/tickets", g["access_token"].(string), ""); status != 401 || !mentions(body, "TOKEN_EXPIRED") {
		t.Fatalf("REST with an expired visitor token: %d %v", status, body)
	}
	_, fresh := newVisitor(t, n, `{"refresh_token":"`+g["refresh_token"].(string)+`"}`)
	user.Emit("authenticate", map[string]any{"accessToken": fresh["access_token"]})
	userEv.next(t, "authenticated")
	mustAck(t, user, "createTicket", "vt-2", map[string]any{"ticketId": "vt-2", "ticketNm": "Renewed"})
}

// TestVisitorModes: oidc mode issues no visitor tokens; identified mode
// refuses anonymous visitors and forged identities, and needs a secret to
// start.
func TestVisitorModes(t *testing.T) {
	n := runNode(t, testConfig(t, t.TempDir(), testEnv(map[string]string{"SWITCHBOARD_VISITORS": "oidc"})))
	if status, body := newVisitor(t, n, ""); status != 404 || !mentions(body, "SWITCHBOARD_VISITORS=oidc") {
		t.Fatalf("oidc mode: %d %v", status, body)
	}
	if _, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_VISITORS": "identified"}), nil); err == nil ||
		!strings.Contains(err.Error(), "SWITCHBOARD_VISITOR_SECRET") {
		t.Fatalf("identified mode without a secret: %v", err)
	}
	secret := strings.Repeat("s", 32)
	n = runNode(t, testConfig(t, t.TempDir(), testEnv(map[string]string{
		"SWITCHBOARD_VISITORS": "identified", "SWITCHBOARD_VISITOR_SECRET": secret})))
	if status, body := newVisitor(t, n, ""); status != 403 {
		t.Fatalf("an anonymous visitor in identified mode: %d %v", status, body)
	}
	forged := "eyJhbGciOiJIUzI1NiJ9." + "eyJ1c2VySWQiOiI0MiIsImV4cCI6OTk5OTk5OTk5OX0." + "c2lnbmF0dXJl"
	if status, body := newVisitor(t, n, `{"identity":"`+forged+`"}`); status != 403 {
		t.Fatalf("a forged identity: %d %v", status, body)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"userId": "42", "name": "Ann", "exp": time.Now().Add(time.Minute).Unix()})
	jws, _ := signer.Sign(claims)
	identity, _ := jws.CompactSerialize()
	status, g := newVisitor(t, n, `{"identity":"`+identity+`"}`)
	if status != 200 {
		t.Fatalf("a signed identity: %d %v", status, g)
	}
	if status, body := rest(t, n, "GET", "/api/v1/tickets", g["access_token"].(string), ""); status != 200 {
		t.Fatalf("the identified visitor's token over REST: %d %v", status, body)
	}
}

// TestVisitorPruneJob: the pruning job is scheduled with the visitors'
// settings and, run for a slot on one of two nodes, deletes the refresh
// tokens that expired before it, not the live ones.
func TestVisitorPruneJob(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := testdb.Open(t, dialect)
			start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
			now := start
			cfg, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_VISITOR_REFRESH_TTL": "24h",
				"SWITCHBOARD_VISITOR_PRUNE_SCHEDULE": "@hourly"}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			var runners []*jobs.Runner
			var svc *visitors.Service
			for _, name := range []string{"a", "b"} {
				committer := database.NewCommitter(db, nil, database.CommitterOptions{})
				t.Cleanup(committer.Close)
				opts := cfg.Visitors.options(visitors.ModeAnonymous, "switchboard", "default")
				opts.Now, opts.Logger = func() time.Time { return now }, quiet
				if svc, err = visitors.New(context.Background(), db, committer, opts); err != nil {
					t.Fatal(err)
				}
				r := jobs.New(committer, jobs.Options{Node: name, Clock: jobs.NewManualClock(start), Logger: quiet})
				if err := addVisitorJobs(r, svc, cfg.Visitors, quiet); err != nil {
					t.Fatal(err)
				}
				runners = append(runners, r)
			}
			if _, err := svc.Anonymous(context.Background()); err != nil { // expires at 24 h
				t.Fatal(err)
			}
			now = start.Add(20 * time.Hour)
			if _, err := svc.Anonymous(context.Background()); err != nil { // expires at 44 h
				t.Fatal(err)
			}
			slot := start.Add(26 * time.Hour)
			ran := 0
			for _, r := range runners {
				out, err := r.RunSlot(context.Background(), VisitorPruneJob, slot)
				if err != nil || out.Err != nil {
					t.Fatalf("%v %v", err, out.Err)
				}
				if out.Ran {
					ran++
				}
			}
			var left int
			if err := db.Raw(`SELECT COUNT(*) FROM visitor_refresh_tokens`).Scan(&left).Error; err != nil {
				t.Fatal(err)
			}
			if ran != 1 || left != 1 {
				t.Fatalf("the slot ran on %d nodes and left %d refresh tokens; want one node and the live token", ran, left)
			}
		})
	}
}

// TestVisitorKeySettings: the key rotation and the pruning schedule are
// checked at start.
func TestVisitorKeySettings(t *testing.T) {
	for env, want := range map[string]string{
		"SWITCHBOARD_VISITOR_KEY_ROTATION":   "SWITCHBOARD_VISITOR_KEY_ROTATION",
		"SWITCHBOARD_VISITOR_PRUNE_SCHEDULE": "SWITCHBOARD_VISITOR_PRUNE_SCHEDULE",
	} {
		bad := map[string]string{"SWITCHBOARD_VISITOR_KEY_ROTATION": "5m", "SWITCHBOARD_VISITOR_PRUNE_SCHEDULE": "every hour"}[env]
		if _, err := Load("switchboard", nil, testEnv(map[string]string{env: bad}), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: %v, want refused", env, bad, err)
		}
	}
	cfg, err := Load("switchboard", nil, testEnv(map[string]string{"SWITCHBOARD_VISITOR_KEY_ROTATION": "168h"}), io.Discard)
	if err != nil || cfg.Visitors.KeyRotation != 168*time.Hour {
		t.Fatalf("a week's rotation: %v %v", cfg.Visitors.KeyRotation, err)
	}
}
