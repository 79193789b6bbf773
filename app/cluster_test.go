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

	"github.com/switchboard-chat/switchboard/internal/cluster"
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
		if _, limited := env["SWITCHBOARD_RATE_MESSAGES"]; !limited {
			cfg.Limits.MessageRate, cfg.Limits.EventRate = -1, -1
		}
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

	// Uncommitted notices cross too: typing, unnumbered.
	mustAck(t, user, "typing", "t-1", "operator-1")
	if got := opEv.next(t, "typing"); got[0] != "t-1" {
		t.Fatalf("typing %v", got)
	}
	mustAck(t, op, "updateTicketStatus", "t-1", map[string]any{}, 10000, "user-1")
	if got := userEv.next(t, "ticketStatusUpdated"); got[0] != "t-1" || got[1] != float64(10000) {
		t.Fatalf("ticketStatusUpdated %v", got)
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
// the order of the commits, whichever node made them. End to end the race
// this guards against is rare, so this test seldom fails without the
// ordering; the exact check of the ordering itself is
// TestBusDeliversInCommitOrderWhateverThePublishingOrder (internal/cluster).
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

// operatorsOnline is the roster's online flag of each operator, asked of
// node n.
func operatorsOnline(t *testing.T, n *node, token string) map[string]bool {
	t.Helper()
	status, body := rest(t, n, "GET", "/api/v1/operators", token, "")
	if status != 200 {
		t.Fatalf("GET /operators: %d %v", status, body)
	}
	out := map[string]bool{}
	for _, o := range body.([]any) {
		m := o.(map[string]any)
		out[m["operatorId"].(string)] = m["online"] == true
	}
	return out
}

// presenceOf reads the chat-protocol presence event name about username
// from ev within d; it reports false if none came.
func presenceOf(t *testing.T, ev *events, name, username string, d time.Duration) bool {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case a := <-ev.of(name):
			p, _ := a[0].(map[string]any)["payload"].(map[string]any)
			if p["username"] == username {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// TestClusterPresenceAcrossNodes: a user with sockets on two nodes is
// online until both are gone, and its going offline is announced once;
// an operator subscribed on one node is online on the roster of another.
func TestClusterPresenceAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	a, b := nodes[0], nodes[1]
	opTok, userTok := a.token(t, "operator-1"), a.token(t, "user-1")

	sub, _ := dial(t, b, opTok)
	mustAck(t, sub, "subscribeOperator")
	if got := operatorsOnline(t, a, opTok); !got["operator-1"] {
		t.Fatalf("node A's roster: %v", got)
	}

	_, opEv := chatConnect(t, b, opTok)
	userOnA, _ := chatConnect(t, a, userTok)
	chatPayload(t, chatRequest(t, userOnA, "createChat", map[string]any{"members": []string{"operator-1"}, "sesType": "ONETOMANY"}))
	userOnB, _ := chatConnect(t, b, userTok)
	if presenceOf(t, opEv, "userOnline", "user-1", 500*time.Millisecond) {
		t.Fatal("user-1 announced online again by its second socket")
	}
	userOnA.Disconnect()
	if presenceOf(t, opEv, "userDisconnected", "user-1", time.Second) {
		t.Fatal("user-1 announced offline while its socket on B lives")
	}
	userOnB.Disconnect()
	if !presenceOf(t, opEv, "userDisconnected", "user-1", 10*time.Second) {
		t.Fatal("no userDisconnected once both sockets are gone")
	}
	if presenceOf(t, opEv, "userDisconnected", "user-1", time.Second) {
		t.Fatal("userDisconnected twice")
	}
	chatConnect(t, a, userTok)
	if !presenceOf(t, opEv, "userOnline", "user-1", 10*time.Second) {
		t.Fatal("no userOnline when user-1 comes back")
	}

	sub.Disconnect()
	deadline := time.Now().Add(10 * time.Second)
	for operatorsOnline(t, a, opTok)["operator-1"] {
		if time.Now().After(deadline) {
			t.Fatal("operator-1 still online on node A's roster after its subscription ended on B")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// die stops the node as a crash would: its heartbeats stop and Redis is
// gone before its sockets are, so that it cleans nothing up; the others
// must notice.
func (n *node) die(t *testing.T) {
	t.Helper()
	n.app.members.Close()
	n.app.bus.Close()
	n.app.redis.Close()
	if err := n.shutdown(); err != nil {
		t.Logf("the dead node stopped with %v", err)
	}
}

// TestClusterPresenceAfterNodeDeath: the node holding a user's only
// socket and an operator's only subscription dies without cleaning up;
// within the presence timeout the others take them offline, and the
// user's departure is announced once across the cluster.
func TestClusterPresenceAfterNodeDeath(t *testing.T) {
	nodes := startCluster(t, 3, map[string]string{"SWITCHBOARD_PRESENCE_TIMEOUT": "3s"})
	a, b, c := nodes[0], nodes[1], nodes[2]
	opTok, op2Tok, userTok := a.token(t, "operator-1"), a.token(t, "operator-2"), a.token(t, "user-1")
	_, opEv := chatConnect(t, b, opTok)
	user, _ := chatConnect(t, c, userTok)
	chatPayload(t, chatRequest(t, user, "createChat", map[string]any{"members": []string{"operator-1"}, "sesType": "ONETOMANY"}))
	sub, _ := dial(t, c, op2Tok)
	mustAck(t, sub, "subscribeOperator")
	if got := operatorsOnline(t, a, opTok); !got["operator-2"] {
		t.Fatalf("roster before: %v", got)
	}

	died := time.Now()
	c.die(t)
	if !presenceOf(t, opEv, "userDisconnected", "user-1", 15*time.Second) {
		t.Fatal("no userDisconnected after the node died")
	}
	took := time.Since(died)
	t.Logf("user-1 announced offline %v after its node died", took.Round(time.Millisecond))
	if took > 3*time.Second+2*time.Second {
		t.Fatalf("announced after %v, timeout 3s", took)
	}
	if got := operatorsOnline(t, a, opTok); got["operator-2"] {
		t.Fatalf("roster after: %v", got)
	}
	if presenceOf(t, opEv, "userDisconnected", "user-1", 4*time.Second) { // two nodes reap
		t.Fatal("userDisconnected twice")
	}
}

// TestClusterSharesRateLimits: a user spends its burst of messages on
// node A; its socket on node B, whose bucket knew nothing of it, is
// charged what A gave within a sync and refused, as one node would.
func TestClusterSharesRateLimits(t *testing.T) {
	nodes := startCluster(t, 2, map[string]string{"SWITCHBOARD_RATE_MESSAGES": "1", "SWITCHBOARD_RATE_MESSAGES_BURST": "5"})
	a, b := nodes[0], nodes[1]
	tok := a.token(t, "user-1")
	chatConnect(t, a, a.token(t, "operator-1")) // known, so that user-1 may reach it
	onA, _ := chatConnect(t, a, tok)
	onB, _ := chatConnect(t, b, tok)
	c := chatPayload(t, chatRequest(t, onA, "createChat", map[string]any{"members": []string{"operator-1"}, "sesType": "ONETOMANY"}))
	send := func(s *client.Socket) string {
		env := chatRequest(t, s, "sendMsg", map[string]any{"chatSessionId": c["chatSessionId"], "msg": "hi"})
		code, _ := env["resultCode"].(string)
		return code
	}
	for i := range 5 {
		if code := send(onA); code != "OK" {
			t.Fatalf("message %d of the burst on A: %s", i, code)
		}
	}
	if code := send(onA); code == "OK" {
		t.Fatal("A gave a sixth message of a burst of 5")
	}
	time.Sleep(3 * cluster.SyncEvery)
	send(onB) // B meets user-1: its bucket, full, gives this one, then B learns of A's
	time.Sleep(3 * cluster.SyncEvery)
	if code := send(onB); code == "OK" {
		t.Fatal("B gave a message although user-1 spent its burst on A")
	}
}
