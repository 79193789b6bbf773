package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/webhooks"
)

// TestWebhookReceiverThatFailsFirst is the webhook's promise end to end:
// a program registers its webhook with its own token (from the
// development issuer), drives a livechat ticket, and a receiver that
// fails its first 3 deliveries gets every notification exactly once by
// id (the retries carrying the same ids), signed, in batches of at most
// 100, oldest first.
func TestWebhookReceiverThatFailsFirst(t *testing.T) {
	const secret = "webhook-secret-of-program-42"
	type delivery struct {
		status        int
		signed        bool
		notifications []webhooks.Notification
	}
	var mu sync.Mutex
	var got []delivery
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get(webhooks.TimestampHeader)
		var b struct {
			Notifications []webhooks.Notification `json:"notifications"`
		}
		_ = json.Unmarshal(body, &b)
		mu.Lock()
		defer mu.Unlock()
		status := http.StatusOK
		if len(got) < 3 {
			status = http.StatusInternalServerError
		}
		got = append(got, delivery{status: status, notifications: b.Notifications,
			signed: ts != "" && r.Header.Get(webhooks.SignatureHeader) == webhooks.Sign(secret, ts, body)})
		w.WriteHeader(status)
	}))
	defer recv.Close()

	n := startNode(t, t.TempDir())
	program, operator := n.token(t, "program-42"), n.token(t, "operator-1")
	hook := "/api/v1/programs/program-42/webhook"
	body := fmt.Sprintf(`{"url":%q,"secret":%q}`, recv.URL, secret)
	if status, out := rest(t, n, "PUT", hook, operator, body); status != http.StatusForbidden {
		t.Fatalf("an operator registers a program's webhook: %d %v", status, out)
	}
	if status, out := rest(t, n, "PUT", hook, program, body); status != http.StatusOK {
		t.Fatalf("register: %d %v", status, out)
	}

	p, _ := dial(t, n, program)
	op, opEv := dial(t, n, operator)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, p, "subscribe", map[string]any{"userId": "42", "programId": "program-42", "fullNm": "End User 42"})
	mustAck(t, p, "createTicket", "t-w", map[string]any{"ticketNm": "Billing", "programId": "program-42"})
	created := opEv.next(t, "ticketCreated")[0].(map[string]any)
	mustAck(t, op, "acceptTicket", "t-w", created, "")
	const messages = 110
	for i := 0; i < messages; i++ {
		mustAck(t, p, "updateMessage", "t-w", fmt.Sprintf("m-%03d", i),
			map[string]any{"content": "hello", "type": 1, "programId": "program-42"}, "operator-1")
	}

	// What the receiver took, de-duplicated by id.
	taken := func() (out []webhooks.Notification) {
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]bool{}
		for _, d := range got {
			for _, n := range d.notifications {
				if d.status == http.StatusOK && !seen[n.ID] {
					seen[n.ID] = true
					out = append(out, n)
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(taken()) < 2+messages {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver took %d notifications, want %d", len(taken()), 2+messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing more comes

	mu.Lock()
	defer mu.Unlock()
	ids := map[string]bool{}
	for i, d := range got {
		if !d.signed || len(d.notifications) == 0 || len(d.notifications) > 100 {
			t.Errorf("delivery %d: signed %v, %d notifications", i, d.signed, len(d.notifications))
		}
		if d.status != http.StatusOK {
			continue
		}
		for _, n := range d.notifications {
			if ids[n.ID] {
				t.Errorf("notification %s taken twice", n.ID)
			}
			ids[n.ID] = true
		}
	}
	idsOf := func(d delivery) (out []string) {
		for _, n := range d.notifications {
			out = append(out, n.ID)
		}
		return out
	}
	// A retry carries the failed batch again, same ids, oldest first; it
	// may carry more that were queued meanwhile.
	for i := 1; i <= 3; i++ {
		if prev, next := idsOf(got[i-1]), idsOf(got[i]); len(next) < len(prev) || !slices.Equal(next[:len(prev)], prev) {
			t.Fatalf("attempt %d does not begin with attempt %d's notifications", i+1, i)
		}
	}
	var order []string
	for _, d := range got[3:] {
		for _, n := range d.notifications {
			var obj map[string]any
			_ = json.Unmarshal(n.Object, &obj)
			switch {
			case n.ObjectType == "ticket" && n.Event == "new" && obj["ticketId"] == "t-w":
				order = append(order, "ticket new")
			case n.ObjectType == "ticket" && n.Event == "changed":
				order = append(order, "ticket changed")
			case n.ObjectType == "message" && n.Event == "new":
				order = append(order, fmt.Sprint(obj["message_id"]))
			default:
				order = append(order, n.ObjectType+" "+n.Event)
			}
		}
	}
	want := []string{"ticket new", "ticket changed"}
	for i := 0; i < messages; i++ {
		want = append(want, fmt.Sprintf("m-%03d", i))
	}
	if !slices.Equal(order, want) {
		t.Fatalf("notifications in order %v\nwant %v", order, want)
	}

	status, log := rest(t, n, "GET", hook+"/deliveries", program, "")
	entries, _ := log.([]any)
	if status != http.StatusOK || len(entries) < 4 {
		t.Fatalf("delivery log: %d %v", status, log)
	}
	if oldest := entries[len(entries)-1].(map[string]any); oldest["status"] != float64(500) {
		t.Fatalf("oldest logged delivery %v, want the first failure", oldest)
	}
}

// TestWebhooksOff: SWITCHBOARD_WEBHOOKS=off serves no webhook endpoint and
// builds no stream event; bad settings are refused at start.
func TestWebhooksOff(t *testing.T) {
	for env, want := range map[string]string{
		"SWITCHBOARD_WEBHOOKS=maybe":          "SWITCHBOARD_WEBHOOKS",
		"SWITCHBOARD_WEBHOOK_MAX_FAILURES=0":  "SWITCHBOARD_WEBHOOK_MAX_FAILURES",
		"SWITCHBOARD_WEBHOOK_MAX_FAILURES=-3": "SWITCHBOARD_WEBHOOK_MAX_FAILURES",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := Load("switchboard", nil, testEnv(map[string]string{k: v}), io.Discard); err == nil ||
			!strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", env, err)
		}
	}
	dir := t.TempDir()
	cfg := testConfig(t, dir, testEnv(map[string]string{"SWITCHBOARD_WEBHOOKS": "off"}))
	n := runNode(t, cfg)
	if n.app.committer.Streaming() {
		t.Error("webhooks off and no sink, yet stream events are built")
	}
	body := `{"url":"https://example.com/hook","secret":"webhook-secret-of-program-42"}`
	if status, _ := rest(t, n, "PUT", "/api/v1/programs/program-42/webhook", n.token(t, "program-42"), body); status != http.StatusNotFound {
		t.Fatalf("PUT with webhooks off: %d, want 404", status)
	}
}
