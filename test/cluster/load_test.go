package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard/internal/testclient"
	"github.com/switchboard-chat/switchboard/oauth"
)

// peer is one user's or operator's socket through nginx. The client
// library reconnects it by itself after a transport close (a node's
// death or drain); each reconnect re-authenticates with the handshake's
// token, and an operator then catches up on its tickets since the last
// message it had seen, as docs/protocol.md tells clients to.
type peer struct {
	c          *cluster
	who, token string
	s          *client.Socket

	mu           sync.Mutex
	up           bool
	connects     int
	downSince    time.Time
	outages      []time.Duration // from a disconnect to authenticated again
	tickets      []string        // an operator's tickets
	seen         map[string][]string
	has          map[string]bool
	liveLast     map[string]string // the last id received live, per ticket
	resumeFrom   map[string]string // the last id seen when the socket went down
	liveDups     int
	disorder     []string
	catchUpErrs  []error
	catchingUp   sync.WaitGroup
	authed       chan struct{}
	authedClosed bool
}

func (c *cluster) dial(t *testing.T, who string, polling bool) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	token, err := oauth.DevToken(ctx, c.issuer(), who, c.env0("SWITCHBOARD_DATA_DIR"))
	if err != nil {
		t.Fatalf("token for %s: %v", who, err)
	}
	p := &peer{c: c, who: who, token: token, seen: map[string][]string{}, has: map[string]bool{},
		liveLast: map[string]string{}, resumeFrom: map[string]string{}, authed: make(chan struct{})}
	opts := client.DefaultOptions()
	if polling {
		opts.SetTransports(types.NewSet(client.Polling))
	} else {
		opts.SetTransports(types.NewSet(client.WebSocket))
	}
	opts.SetForceNew(true)
	opts.SetAutoConnect(false)
	opts.SetTimeout(5 * time.Second)
	opts.SetReconnectionDelay(200)
	opts.SetReconnectionDelayMax(1000)
	opts.SetAuth(map[string]any{"accessToken": token})
	s, err := client.Connect(c.base, opts)
	if err != nil {
		t.Fatal(err)
	}
	p.s = s
	s.On("disconnect", func(...any) { p.down() })
	s.On("authenticated", func(...any) { p.authenticated() })
	s.On("messageUpdated", func(a ...any) {
		if m, ok := a[0].(map[string]any); ok {
			id, _ := m["messageId"].(string)
			p.live(id)
		}
	})
	testclient.Connect(s, 10*time.Second)
	t.Cleanup(func() { s.Disconnect() })
	select {
	case <-p.authed:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: not authenticated through nginx", who)
	}
	return p
}

// env0 is one of the nodes' settings.
func (c *cluster) env0(key string) string {
	for _, kv := range c.env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func (p *peer) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.up {
		return
	}
	p.up, p.downSince = false, time.Now()
	for _, tk := range p.tickets {
		if ids := p.seen[tk]; len(ids) > 0 {
			p.resumeFrom[tk] = ids[len(ids)-1]
		}
	}
}

func (p *peer) authenticated() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = true
	p.connects++
	if !p.authedClosed {
		close(p.authed)
		p.authedClosed = true
	}
	if p.connects == 1 {
		return
	}
	p.outages = append(p.outages, time.Since(p.downSince))
	if strings.HasPrefix(p.who, "operator") {
		p.s.Emit("subscribeOperator")
	} else {
		p.s.Emit("subscribe", map[string]any{"userId": p.who})
	}
	for _, tk := range p.tickets {
		p.catchingUp.Add(1)
		go p.catchUp(tk, p.resumeFrom[tk])
	}
}

// catchUp asks for the ticket's messages after since and takes those it
// has not seen.
func (p *peer) catchUp(ticket, since string) {
	defer p.catchingUp.Done()
	var ids []string
	var err error
	for attempt := 0; attempt < 20; attempt++ { // a node may be restarting
		if ids, err = p.c.messagesSince(ticket, since, p.token); err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.catchUpErrs = append(p.catchUpErrs, err)
		return
	}
	for _, id := range ids {
		p.take(ticket, id)
	}
}

// live takes a messageUpdated: within a ticket each must come after the
// last one received live (commit order; the sender sends one at a time).
func (p *peer) live(id string) {
	ticket, _, _ := strings.Cut(id, "~")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch last := p.liveLast[ticket]; {
	case id == last || (id < last && p.has[id]):
		p.liveDups++
	case id < last:
		p.disorder = append(p.disorder, fmt.Sprintf("%s after %s", id, last))
	}
	if id > p.liveLast[ticket] {
		p.liveLast[ticket] = id
	}
	p.take(ticket, id)
}

func (p *peer) take(ticket, id string) {
	if !p.has[id] {
		p.has[id] = true
		p.seen[ticket] = append(p.seen[ticket], id)
	}
}

func (p *peer) connected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.up
}

// ack emits and waits for the ack within limit; nil is success.
func (p *peer) ack(limit time.Duration, event string, args ...any) error {
	ch := make(chan any, 1)
	p.s.Emit(event, append(args, func(a []any, err error) {
		switch {
		case err != nil: // the library gave up on the ack (its socket closed)
			ch <- err.Error()
		case len(a) == 0:
			ch <- "an empty ack"
		default:
			ch <- a[0]
		}
	})...)
	select {
	case v := <-ch:
		if v != nil {
			return fmt.Errorf("%s: %v", event, v)
		}
		return nil
	case <-time.After(limit):
		return fmt.Errorf("no ack for %s within %v", event, limit)
	}
}

// sender sends one ticket's messages one at a time, each again (same id)
// until it is acked: what a client does after a failed or unanswered
// send. Every acked id is kept.
type sender struct {
	user     *peer
	ticket   string
	operator string
	mu       sync.Mutex
	acked    []string
	retries  int
}

func (s *sender) run(stop <-chan struct{}, every time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	for k := 0; ; {
		select {
		case <-stop:
			return
		case <-time.After(every):
		}
		if !s.user.connected() {
			continue
		}
		id := fmt.Sprintf("%s~%05d", s.ticket, k)
		err := s.user.ack(3*time.Second, "updateMessage", s.ticket, id, map[string]any{"content": id, "type": 1}, s.operator)
		s.mu.Lock()
		if err == nil {
			s.acked = append(s.acked, id)
			k++
		} else {
			s.retries++
		}
		s.mu.Unlock()
	}
}

// load is users and operators spread over the nodes by nginx, each user
// with a ticket handled by one of the operators.
type load struct {
	c         *cluster
	operators map[string]*peer
	users     []*peer
	senders   []*sender
	stop      chan struct{}
	wg        sync.WaitGroup
}

func startLoad(t *testing.T, c *cluster, tickets int, every time.Duration) *load {
	t.Helper()
	l := &load{c: c, operators: map[string]*peer{}, stop: make(chan struct{})}
	for i := 1; i <= 3; i++ {
		who := fmt.Sprintf("operator-%d", i)
		l.operators[who] = c.dial(t, who, false)
		if err := l.operators[who].ack(10*time.Second, "subscribeOperator"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range tickets {
		who := fmt.Sprintf("user-%d", i%2+1)
		user := c.dial(t, who, false)
		if err := user.ack(10*time.Second, "subscribe", map[string]any{"userId": who}); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		ticket := fmt.Sprintf("%s-t%02d", strings.ReplaceAll(t.Name(), "/", "-"), i)
		opName := fmt.Sprintf("operator-%d", i%3+1)
		op := l.operators[opName]
		if err := user.ack(10*time.Second, "createTicket", ticket, map[string]any{"ticketId": ticket, "ticketNm": "cluster"}); err != nil {
			t.Fatal(err)
		}
		if err := op.ack(10*time.Second, "acceptTicket", ticket, map[string]any{"ticketId": ticket}, who); err != nil {
			t.Fatal(err)
		}
		op.mu.Lock()
		op.tickets = append(op.tickets, ticket)
		op.mu.Unlock()
		l.users = append(l.users, user)
		l.senders = append(l.senders, &sender{user: user, ticket: ticket, operator: opName})
	}
	for _, s := range l.senders {
		l.wg.Add(1)
		go s.run(l.stop, every, &l.wg)
	}
	return l
}

func (l *load) peers() []*peer {
	ps := append([]*peer{}, l.users...)
	for _, op := range l.operators {
		ps = append(ps, op)
	}
	return ps
}

// reconnects is how many times the sockets have authenticated again.
func (l *load) reconnects() int {
	n := 0
	for _, p := range l.peers() {
		p.mu.Lock()
		n += p.connects - 1
		p.mu.Unlock()
	}
	return n
}

// allBack waits until some socket has reconnected after before (the
// node that went away had clients) and every socket is connected and
// authenticated again, and returns how long that took from since.
func (l *load) allBack(t *testing.T, since time.Time, before int, limit time.Duration) time.Duration {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		back := l.reconnects() > before
		for _, p := range l.peers() {
			back = back && p.connected()
		}
		if back {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every client reconnected within %v (%d reconnects before, %d now)", limit, before, l.reconnects())
		}
	}
}

// finish stops sending and checks the whole run: every acked message is
// stored once, in order, and reached its operator (live or by catch-up
// after a reconnect), in order, with no gap.
func (l *load) finish(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	for _, op := range l.operators {
		op.catchingUp.Wait()
	}
	acked, retries := 0, 0
	for _, s := range l.senders {
		s.mu.Lock()
		acked, retries = acked+len(s.acked), retries+s.retries
		s.mu.Unlock()
		if len(s.acked) == 0 {
			t.Errorf("ticket %s: no message acked", s.ticket)
			continue
		}
		stored, err := l.c.messagesSince(s.ticket, "", s.user.token)
		if err != nil {
			t.Fatal(err)
		}
		if !sort.StringsAreSorted(stored) || len(dedup(stored)) != len(stored) {
			t.Errorf("ticket %s: stored out of order or twice: %v", s.ticket, stored)
		}
		if missing := without(s.acked, stored); len(missing) > 0 {
			t.Errorf("ticket %s: %d acked messages are not stored: %v", s.ticket, len(missing), missing)
		}
		op := l.operators[s.operator]
		var got []string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			op.mu.Lock()
			got = append([]string{}, op.seen[s.ticket]...)
			op.mu.Unlock()
			if len(without(s.acked, got)) == 0 || time.Now().After(deadline) {
				break
			}
		}
		if missing := without(s.acked, got); len(missing) > 0 {
			t.Errorf("ticket %s: %d acked messages never reached %s: %v", s.ticket, len(missing), s.operator, missing)
		}
	}
	liveDups := 0
	for name, op := range l.operators {
		op.mu.Lock()
		if len(op.disorder) > 0 {
			t.Errorf("%s received messages out of commit order: %v", name, op.disorder)
		}
		if len(op.catchUpErrs) > 0 {
			t.Errorf("%s: catch-up failed: %v", name, op.catchUpErrs)
		}
		liveDups += op.liveDups
		op.mu.Unlock()
	}
	var outages []time.Duration
	for _, p := range l.peers() {
		p.mu.Lock()
		outages = append(outages, p.outages...)
		p.mu.Unlock()
	}
	sort.Slice(outages, func(i, j int) bool { return outages[i] < outages[j] })
	worst := time.Duration(0)
	if len(outages) > 0 {
		worst = outages[len(outages)-1]
	}
	t.Logf("%d messages acked on %d tickets (%d sends retried), %d reconnects (longest %v), %d duplicates received live and dropped by id",
		acked, len(l.senders), retries, len(outages), worst.Round(time.Millisecond), liveDups)
}

func dedup(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// without is the ids of want missing from have.
func without(want, have []string) []string {
	in := dedup(have)
	var out []string
	for _, id := range want {
		if !in[id] {
			out = append(out, id)
		}
	}
	return out
}
