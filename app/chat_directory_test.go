package app

import (
	"io"
	"slices"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard/internal/testclient"
)

// startNodeEnv runs the server on dir's database with the settings of env
// (SWITCHBOARD_* variables) over the test defaults.
func startNodeEnv(t *testing.T, dir string, env map[string]string) *node {
	t.Helper()
	return runNode(t, testConfig(t, dir, testEnv(env)))
}

// chatDial connects a chat-protocol socket and completes its handshake
// (clientReady → userOnline), dialling again if the first connection
// hangs on a loaded machine.
func chatDial(t *testing.T, n *node, token string) *client.Socket {
	t.Helper()
	for attempt := 1; ; attempt++ {
		opts := client.DefaultOptions()
		opts.SetPath("/api/chatserver/socket.io")
		opts.SetTransports(types.NewSet(client.WebSocket))
		opts.SetForceNew(true)
		opts.SetAutoConnect(false)
		opts.SetTimeout(5 * time.Second)
		s, err := client.Connect(n.base, opts)
		if err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{}, 1)
		s.On("serverReady", func(...any) { ready <- struct{}{} })
		testclient.Connect(s, 10*time.Second)
		t.Cleanup(func() { s.Disconnect() })
		select {
		case <-ready:
			if env := chatRequest(t, s, "clientReady", map[string]any{"tokenId": token}); env["resultCode"] != "OK" {
				t.Fatalf("clientReady: %v", env)
			}
			return s
		case <-time.After(5 * time.Second):
			s.Disconnect()
			if attempt == 3 {
				t.Fatal("no serverReady after 3 connections")
			}
		}
	}
}

// chatRequest sends a chat-protocol event and returns its response body.
func chatRequest(t *testing.T, s *client.Socket, event string, payload map[string]any) map[string]any {
	t.Helper()
	env, _ := emitAck(t, s, event, map[string]any{"headers": map[string]any{}, "payload": payload}).(map[string]any)
	return env
}

func chatPayload(t *testing.T, env map[string]any) map[string]any {
	t.Helper()
	if env["resultCode"] != "OK" {
		t.Fatalf("result %v", env)
	}
	return env["payload"].(map[string]any)
}

// chatUsernames lists the usernames of a chatUsers answer.
func chatUsernames(t *testing.T, env map[string]any) []string {
	t.Helper()
	var out []string
	for _, u := range chatPayload(t, env)["users"].([]any) {
		out = append(out, u.(map[string]any)["username"].(string))
	}
	slices.Sort(out)
	return out
}

// TestChatDirectoryOverTheProtocol: by default user-1 neither finds nor
// reaches user-2 over the chat protocol and still reaches operators;
// SWITCHBOARD_CHAT_DIRECTORY=tenant gives back the general model.
func TestChatDirectoryOverTheProtocol(t *testing.T) {
	t.Run("operators", func(t *testing.T) {
		n := startNodeEnv(t, t.TempDir(), nil)
		op := chatDial(t, n, n.token(t, "operator-1"))
		_ = chatDial(t, n, n.token(t, "user-2"))
		u1 := chatDial(t, n, n.token(t, "user-1"))

		if got := chatUsernames(t, chatRequest(t, u1, "getChatUsers", map[string]any{})); !slices.Equal(got, []string{"operator-1", "user-1"}) {
			t.Fatalf("user-1 sees %v", got)
		}
		if got := chatUsernames(t, chatRequest(t, u1, "getChatUsers", map[string]any{"usernames": []string{"user-2"}})); len(got) != 0 {
			t.Fatalf("user-1 asking for user-2 sees %v", got)
		}
		if env := chatRequest(t, u1, "createChat", map[string]any{"members": []string{"user-2"}}); env["resultCode"] != "UNAUTHORIZED" {
			t.Fatalf("createChat with user-2: %v", env)
		}
		c := chatPayload(t, chatRequest(t, u1, "createChat", map[string]any{"members": []string{"operator-1"},
			"sesType": "ONETOMANY", "clientSessionId": "s-1"}))
		id := c["chatSessionId"]
		if env := chatRequest(t, u1, "addMembers", map[string]any{"chatSessionId": id, "members": []string{"user-2"}}); env["resultCode"] != "UNAUTHORIZED" {
			t.Fatalf("addMembers user-2: %v", env)
		}

		// Sending, with a key, twice: one message, one id.
		send := map[string]any{"chatSessionId": id, "msg": "hello", "clientMsgId": "m-1"}
		first := chatPayload(t, chatRequest(t, u1, "sendMsg", send))
		again := chatPayload(t, chatRequest(t, u1, "sendMsg", send))
		if first["msgId"] != again["msgId"] {
			t.Fatalf("a retry with its clientMsgId stored %v and %v", first["msgId"], again["msgId"])
		}
		msgs := chatPayload(t, chatRequest(t, op, "getChatMessages", map[string]any{"chatSessionId": id}))
		if msgs["count"] != float64(1) {
			t.Fatalf("the operator sees %v messages", msgs["count"])
		}
		if again := chatPayload(t, chatRequest(t, u1, "createChat", map[string]any{"members": []string{"operator-1"},
			"sesType": "ONETOMANY", "clientSessionId": "s-1"})); again["chatSessionId"] != id {
			t.Fatalf("a retry with its clientSessionId created %v", again["chatSessionId"])
		}
	})
	t.Run("tenant", func(t *testing.T) {
		n := startNodeEnv(t, t.TempDir(), map[string]string{"SWITCHBOARD_CHAT_DIRECTORY": "tenant"})
		_ = chatDial(t, n, n.token(t, "user-2"))
		u1 := chatDial(t, n, n.token(t, "user-1"))
		if got := chatUsernames(t, chatRequest(t, u1, "getChatUsers", map[string]any{})); !slices.Equal(got, []string{"user-1", "user-2"}) {
			t.Fatalf("user-1 sees %v", got)
		}
		c := chatPayload(t, chatRequest(t, u1, "createChat", map[string]any{"members": []string{"user-2"}}))
		chatPayload(t, chatRequest(t, u1, "sendMsg", map[string]any{"chatSessionId": c["chatSessionId"], "msg": "hi"}))
	})
}

func TestChatDirectorySettingRefusesOtherValues(t *testing.T) {
	_, err := Load("switchboard", nil, func(k string) string {
		return map[string]string{"SWITCHBOARD_CHAT_DIRECTORY": "everyone"}[k]
	}, io.Discard)
	if err == nil {
		t.Fatal("SWITCHBOARD_CHAT_DIRECTORY=everyone was accepted")
	}
}
