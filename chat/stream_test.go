package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/outbox"
)

// streamed reads the outbox's envelopes in commit order.
func streamed(t *testing.T, db *database.DB) []outbox.Envelope {
	t.Helper()
	var raw []string
	if err := db.Raw(`SELECT envelope FROM outbox ORDER BY seq`).Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]outbox.Envelope, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Chat sessions' messages (sent, edited, removed) and users' connections
// are streamed, and their statuses.
func TestChatChangesAreStreamed(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := testdb.Open(t, d)
			committer := database.NewCommitter(db, nil, database.CommitterOptions{
				Outbox: outbox.NewWriter(outbox.WriterOptions{})})
			t.Cleanup(committer.Close)
			presence := chat.NewPresence(nil)
			f := &fixture{db: db, rec: &recorder{}}
			f.svc = chat.NewService(db, committer, chat.ServiceOptions{Publisher: f.rec, Directory: chat.DirectoryTenant,
				Presence: presence})
			ctx := context.Background()
			ann := f.user(t, "acme", "ann")
			f.user(t, "acme", "bob")
			c, err := f.svc.CreateChat(ctx, ann, chat.CreateChatInput{Members: []string{"bob"}, Title: "t"})
			must(t, err)
			m, err := f.svc.SendMsg(ctx, ann, chat.SendMsgInput{SessionID: c.ChatSessionID, Content: "hi"})
			must(t, err)
			_, err = f.svc.EditMsg(ctx, ann, c.ChatSessionID, m.MsgID, "hello")
			must(t, err)
			_, err = f.svc.RemoveMsg(ctx, ann, c.ChatSessionID, m.MsgID)
			must(t, err)
			presence.Connect("acme", "bob")
			presence.Disconnect("acme", "bob")
			_, err = f.svc.SetStatus(ctx, ann, "AWAY", "lunch")
			must(t, err)
			var envs []outbox.Envelope
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if envs = streamed(t, db); len(envs) >= 6 || time.Now().After(deadline) {
					break
				}
			}
			var names []string
			for _, e := range envs {
				names = append(names, e.Name)
			}
			if fmt.Sprint(names) != "[personalChatSent messageEdited messageRemoved userConnected userDisconnected presenceChanged]" {
				t.Fatalf("stream %v", names)
			}
			sent := envs[0].Payload["personalChatSent"].(map[string]any)
			if sent["target_type"] != "session" || sent["target_id"] != c.ChatSessionID || sent["payload"] != "hi" ||
				sent["sender_id"] != "ann" || fmt.Sprint(sent["target_members"]) != "[bob]" || envs[0].SessionID != c.ChatSessionID {
				t.Fatalf("personalChatSent %v", sent)
			}
			if edited := envs[1].Payload["messageEdited"].(map[string]any); edited["content"] != "hello" || edited["messageId"] != m.MsgID {
				t.Fatalf("messageEdited %v", edited)
			}
			if envs[3].UserID != "bob" || envs[3].ClientID != "acme" || envs[3].SessionID != "" {
				t.Fatalf("userConnected %+v", envs[3])
			}
			if st := envs[5].Payload["presenceChanged"].(map[string]any); envs[5].UserID != "ann" || st["status"] != "AWAY" ||
				st["previousStatus"] != "AVAILABLE" || st["statusMessage"] != "lunch" {
				t.Fatalf("presenceChanged %+v", envs[5])
			}
			if gone := envs[4].Payload["userDisconnected"].(map[string]any); gone["forced"] != false {
				t.Fatalf("userDisconnected %v", gone)
			}
		})
	}
}
