package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Data-protection requests over the real server with the development
// issuer's tokens: operator-2 is refused, operator-1 (an administrator)
// exports user-1's ticket and erases it, and user-1's live socket is
// disconnected.
func TestDataRequestsOverTheServer(t *testing.T) {
	n := startNode(t, t.TempDir())
	user, _ := dial(t, n, n.token(t, "user-1"))
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1", "fullNm": "Ann Example", "email": "ann@example.com"})
	mustAck(t, user, "createTicket", "t-gdpr", map[string]any{"ticketId": "t-gdpr", "ticketNm": "Printer"})
	mustAck(t, user, "updateMessage", "t-gdpr", "m-gdpr", map[string]any{"content": "my printer is on fire", "type": 1}, "")

	call := func(method, who string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, n.base+"/api/v1/users/user-1/data", nil)
		req.Header.Set("Authorization", "Bearer "+n.token(t, who))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	for _, who := range []string{"operator-2", "user-1"} {
		if status, _ := call(http.MethodDelete, who); status != http.StatusForbidden {
			t.Errorf("DELETE by %s: %d, want 403", who, status)
		}
	}
	status, body := call(http.MethodGet, "operator-1")
	if status != http.StatusOK || !strings.Contains(body, "my printer is on fire") || !strings.Contains(body, "ann@example.com") {
		t.Fatalf("export: %d %s", status, body)
	}
	if status, body := call(http.MethodDelete, "operator-1"); status != http.StatusOK || !strings.Contains(body, `"ticketsDeleted":1`) {
		t.Fatalf("erase: %d %s", status, body)
	}
	for deadline := time.Now().Add(10 * time.Second); user.Connected(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the erased user's socket is still connected")
		}
	}
	if status, _ := call(http.MethodGet, "operator-1"); status != http.StatusNotFound {
		t.Errorf("export after erasure: %d, want 404", status)
	}
}
