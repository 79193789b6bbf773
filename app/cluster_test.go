package app

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"

	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/internal/testredis"
)

// startCluster runs count nodes on one fresh PostgreSQL database and one
// Redis key prefix, with env over the test defaults. The first node's
// development issuer signs every node's tokens (node.token on it).
func startCluster(t *testing.T, count int, env map[string]string) []*node {
	t.Helper()
	dbURL := testdb.PostgresURL(t)
	redisURL, prefix := testredis.Open(t)
	dir := t.TempDir()
	var nodes []*node
	for i := range count {
		e := map[string]string{"SWITCHBOARD_REDIS_URL": redisURL, "SWITCHBOARD_REDIS_PREFIX": prefix,
			"SWITCHBOARD_DATABASE": dbURL}
		if i > 0 {
			e["SWITCHBOARD_OIDC_ISSUER"] = nodes[0].base + "/oidc"
			e["SWITCHBOARD_OIDC_ACCEPT_JWT_TYP"] = "true"
		}
		maps.Copy(e, env)
		cfg := testConfig(t, dir, testEnv(e))
		cfg.Database = dbURL
		cfg.DataDir = filepath.Join(dir, "data") // the first node's issuer keys
		cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
		cfg.Limits.MaxConnsPerIP, cfg.Limits.MaxConnsPerPrincipal, cfg.Limits.MaxRequests = -1, -1, -1
		nodes = append(nodes, runNode(t, cfg))
	}
	return nodes
}

// chatConnect connects a chat-protocol socket to n, recording what it
// receives, and completes its handshake.
func chatConnect(t *testing.T, n *node, token string) (*client.Socket, *events) {
	t.Helper()
	s, ev := sockConnect(t, n, chatPath, nil)
	if env := chatRequest(t, s, "clientReady", map[string]any{"tokenId": token}); env["resultCode"] != "OK" {
		t.Fatalf("clientReady: %v", env)
	}
	return s, ev
}

// TestClusterDeliversAcrossNodes: a user on node A and an operator on
// node B see each other's livechat and chat-protocol events as on one
// node.
func TestClusterDeliversAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	op, opEv := dial(t, b, a.token(t, "operator-1"))
	user, userEv := dial(t, a, a.token(t, "user-1"))
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1", "fullNm": "Ann Example"})

	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Printer"})
	created := opEv.next(t, "ticketCreated")[0].(map[string]any)
	if created["ownerId"] != "user-1" || created["statusId"] != float64(100) {
		t.Fatalf("ticketCreated %v", created)
	}
	mustAck(t, op, "acceptTicket", "t-1", created, "user-1")
	if accepted := userEv.next(t, "ticketAccepted")[0].(map[string]any); accepted["handleById"] != "operator-1" {
		t.Fatalf("ticketAccepted %v", accepted)
	}
	mustAck(t, user, "updateMessage", "t-1", "m-1", map[string]any{"content": "hello", "type": 1}, "operator-1")
	msg := opEv.next(t, "messageUpdated")[0].(map[string]any)
	if msg["senderId"] != "user-1" || msg["content"] != "hello" {
		t.Fatalf("messageUpdated %v", msg)
	}
	mustAck(t, op, "updateMessageStatus", "m-1", 3, "operator-1", "user-1", false)
	if got := userEv.next(t, "messageStatusUpdated"); got[0] != "m-1" || got[1] != float64(3) {
		t.Fatalf("messageStatusUpdated %v", got)
	}
	mustAck(t, op, "updateMessage", "t-1", "m-2", map[string]any{"content": "hi there", "type": 1}, "user-1")
	if got := userEv.next(t, "messageUpdated")[0].(map[string]any); got["content"] != "hi there" {
		t.Fatalf("messageUpdated to the user %v", got)
	}

	// The chat protocol: the operator on B, the user on A.
	chatOp, chatOpEv := chatConnect(t, b, a.token(t, "operator-1"))
	chatUser, _ := chatConnect(t, a, a.token(t, "user-1"))
	c := chatPayload(t, chatRequest(t, chatUser, "createChat", map[string]any{"members": []string{"operator-1"},
		"sesType": "ONETOMANY"}))
	chatPayload(t, chatRequest(t, chatUser, "sendMsg", map[string]any{"chatSessionId": c["chatSessionId"], "msg": "across"}))
	for {
		got := chatOpEv.next(t, "chatMsg")
		if m, _ := got[0].(map[string]any); m != nil && containsValue(m, "across") {
			break
		}
	}
	_ = chatOp
}

// containsValue reports whether v is somewhere in m (a nested payload).
func containsValue(m any, v string) bool {
	switch x := m.(type) {
	case string:
		return x == v
	case map[string]any:
		for _, e := range x {
			if containsValue(e, v) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsValue(e, v) {
				return true
			}
		}
	}
	return false
}

// TestClusterRefusesSQLite: with a Redis URL the nodes share one
// database, which a SQLite file cannot be: the server does not start,
// and says why, whether the settings come from Load or not.
func TestClusterRefusesSQLite(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(map[string]string{"SWITCHBOARD_REDIS_URL": "redis://127.0.0.1:6379/0",
		"SWITCHBOARD_DATABASE": filepath.Join(dir, "switchboard.db")})
	if _, err := Load("switchboard", nil, env, io.Discard); err == nil || !strings.Contains(err.Error(), "must be a postgres:// URL") {
		t.Fatalf("Load: %v", err)
	}
	cfg := testConfig(t, dir, testEnv(nil))
	cfg.Cluster.RedisURL = "redis://127.0.0.1:6379/0"
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		a.closeStores()
		t.Fatal("a node started on SQLite with SWITCHBOARD_REDIS_URL")
	}
	if !strings.Contains(err.Error(), "SWITCHBOARD_REDIS_URL") || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(cfg.Database); !os.IsNotExist(err) {
		t.Fatalf("the refused node created its database: %v", err)
	}
}

// TestClusterOrderUnderConcurrentWriters: the user writes on node A and
// the operator on node B into one ticket at once, each without waiting
// for its acks, so that the two nodes' commits interleave and each node
// publishes its own before the other's arrive. A socket of each on the
// other node receives the ticket's messages in one and the same order:
// the order of the commits, whichever node made them.
func TestClusterOrderUnderConcurrentWriters(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	opTok, userTok := a.token(t, "operator-1"), a.token(t, "user-1")
	op, opEv := dial(t, b, opTok)
	user, _ := dial(t, a, userTok)
	opOnA, opOnAEv := dial(t, a, opTok)
	userOnB, userOnBEv := dial(t, b, userTok)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, user, "subscribe", map[string]any{"userId": "user-1", "fullNm": "Ann Example"})
	mustAck(t, user, "createTicket", "t-1", map[string]any{"ticketId": "t-1", "ticketNm": "Race"})
	created := opEv.next(t, "ticketCreated")[0].(map[string]any)
	mustAck(t, op, "acceptTicket", "t-1", created, "user-1")
	mustAck(t, opOnA, "subscribeOperator")
	mustAck(t, userOnB, "subscribe", map[string]any{"userId": "user-1", "fullNm": "Ann Example"})

	const each = 150
	send := func(s *client.Socket, from, to string) <-chan any {
		acks := make(chan any, each)
		for i := range each {
			id := fmt.Sprintf("%s-%03d", from, i)
			if err := s.Emit("updateMessage", "t-1", id, map[string]any{"content": id, "type": 1}, to,
				func(a []any, _ error) { acks <- a[0] }); err != nil {
				t.Errorf("emit: %v", err)
			}
		}
		return acks
	}
	userAcks, opAcks := send(user, "u", "operator-1"), send(op, "o", "user-1")
	for _, acks := range []<-chan any{userAcks, opAcks} {
		for range each {
			select {
			case v := <-acks:
				if v != nil {
					t.Fatalf("updateMessage: %v", v)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("acks missing")
			}
		}
	}
	seen := func(ev *events) []string {
		var ids []string
		for len(ids) < 2*each {
			select {
			case a := <-ev.of("messageUpdated"):
				ids = append(ids, a[0].(map[string]any)["content"].(string))
			case <-time.After(10 * time.Second):
				t.Fatalf("%d messages of %d: %v", len(ids), 2*each, ids)
			}
		}
		return ids
	}
	onA, onB := seen(opOnAEv), seen(userOnBEv)
	interleaved := false
	for i := range onA {
		if onA[i] != onB[i] {
			t.Fatalf("message %d: %s on node A, %s on node B\nA: %v\nB: %v", i, onA[i], onB[i], onA, onB)
		}
		if i > 0 && onA[i][0] != onA[i-1][0] {
			interleaved = true
		}
	}
	if !interleaved {
		t.Log("the two writers' commits did not interleave this time")
	}
	// Each writer's own messages in the order it sent them.
	next := map[byte]int{}
	for _, id := range onA {
		if want := fmt.Sprintf("%c-%03d", id[0], next[id[0]]); id != want {
			t.Fatalf("%s where %s was next", id, want)
		}
		next[id[0]]++
	}
}
