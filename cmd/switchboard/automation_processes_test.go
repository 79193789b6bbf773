package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard/app"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/tickets"
)

// TestAutomationsTwoProcesses: two server processes on one PostgreSQL
// database, both running auto-close and escalation every second. Tickets
// are opened through the livechat protocol on both; an open ticket idle
// for 2 s is closed and a new one waiting 4 s is escalated. Each must
// happen exactly once (one audit row each), and each slot of each job
// must run in one process only (the processes' logs, against job_runs).
//
// While the first waiting ticket comes due, the test holds a lock on its
// conversation's row, so the process escalating it blocks mid-run with
// its writes uncommitted, for several slots. The other process then runs
// the next slot at the same time: only the automation's advisory lock
// keeps it from escalating the same tickets again (it finds none
// escalated yet), so the test fails without it. Without the slot claim
// both processes run every slot, which the logs show.
func TestAutomationsTwoProcesses(t *testing.T) {
	const escalateAfter = 4 * time.Second
	db := testdb.Open(t, "postgres") // skipped only without PostgreSQL and CI
	bin := buildServer(t)
	env := []string{
		"SWITCHBOARD_DATABASE=" + postgresURL(t, db),
		"SWITCHBOARD_LOG_LEVEL=debug", // the job runner logs each run and each slot left to the other node
		"SWITCHBOARD_AUTO_CLOSE_AFTER=2s", "SWITCHBOARD_AUTO_CLOSE_SCHEDULE=@every 1s",
		"SWITCHBOARD_ESCALATE_AFTER=" + escalateAfter.String(), "SWITCHBOARD_ESCALATE_SCHEDULE=@every 1s",
	}
	var nodes [2]*serverProcess
	var wg sync.WaitGroup
	for i, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() { defer wg.Done(); nodes[i] = startServerProcess(t, bin, name, env) }()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Per process: an end user and an operator, one idle ticket (opened,
	// accepted, then left alone) and two waiting ones (never accepted).
	type parties struct{ user, operator *floodSocket }
	var people [2]parties
	for i, n := range nodes {
		srv := &floodServer{base: n.base, data: n.data}
		people[i] = parties{user: srv.dial(t, "user-"+fmt.Sprint(i+1)), operator: srv.dial(t, "operator-"+fmt.Sprint(i+1))}
	}
	var idle, waiting []string
	for i, n := range nodes {
		id := "idle-" + n.name
		floodAck(t, people[i].user, "createTicket", id, map[string]any{"ticketId": id, "ticketNm": id})
		acceptWhenAnnounced(t, people[i].operator, id)
		idle = append(idle, id)
	}
	// The first waiting ticket's row is locked as soon as it exists, well
	// before it comes due, and held for three slots after.
	var hold *lockedRow
	var first time.Time
	for i, n := range nodes {
		for k := range 2 {
			id := fmt.Sprintf("waiting-%s%d", n.name, k)
			if hold == nil {
				first = time.Now()
			}
			floodAck(t, people[i].user, "createTicket", id, map[string]any{"ticketId": id, "ticketNm": id})
			waiting = append(waiting, id)
			if hold == nil {
				hold = lockConversation(t, db, id)
			}
		}
	}
	// The blocked run holds its process's write path: the tickets must
	// all be open before it starts.
	if took := time.Since(first); took > escalateAfter-time.Second {
		t.Fatalf("opening the waiting tickets took %v, too close to their escalation (%v) for the test to hold one run", took, escalateAfter)
	}
	time.Sleep(time.Until(first.Add(escalateAfter + 3*time.Second)))
	hold.release(t)

	deadline := time.Now().Add(15 * time.Second)
	for !allDone(t, db, idle, waiting) {
		if time.Now().After(deadline) {
			t.Fatal("the tickets were not all closed and escalated within 15 s of the lock's release")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // three more slots, which must change nothing
	for _, n := range nodes {
		n.stop(t)
	}

	for _, id := range idle {
		if s := statusOf(t, db, id); s != tickets.StatusClosed {
			t.Errorf("idle ticket %s is %d, want closed", id, s)
		}
		if n := automationRows(t, db, id, tickets.ActionClose); n != 1 {
			t.Errorf("idle ticket %s: %d close audit rows, want 1", id, n)
		}
	}
	for _, id := range waiting {
		if s := statusOf(t, db, id); s != tickets.StatusNew {
			t.Errorf("waiting ticket %s is %d, want new", id, s)
		}
		if n := automationRows(t, db, id, tickets.ActionEscalate); n != 1 {
			t.Errorf("waiting ticket %s: %d escalation audit rows, want 1", id, n)
		}
	}
	for _, job := range []string{app.AutoCloseJob, app.EscalateJob} {
		runsBy := map[string]int{} // slot → processes that ran it
		perNode := map[string]int{}
		for _, n := range nodes {
			for _, r := range n.jobLines() {
				if r.job != job {
					continue
				}
				switch r.msg {
				case "job done", "job failed":
					runsBy[r.slot]++
					perNode[n.name]++
					if r.msg == "job failed" {
						t.Errorf("%s at %s failed in process %s", job, r.slot, n.name)
					}
				}
			}
		}
		for slot, k := range runsBy {
			if k > 1 {
				t.Errorf("%s at %s ran in %d processes", job, slot, k)
			}
		}
		var claimed int
		if err := db.Raw(`SELECT COUNT(*) FROM job_runs WHERE name = ?`, job).Scan(&claimed).Error; err != nil {
			t.Fatal(err)
		}
		if claimed != len(runsBy) || claimed < 4 {
			t.Errorf("%s: %d slots claimed in job_runs, %d run according to the logs; want the same, at least 4", job, claimed, len(runsBy))
		}
		// The blocked run held its process for several slots: the
		// other process ran the next ones.
		if job == app.EscalateJob && (perNode["a"] == 0 || perNode["b"] == 0) {
			t.Errorf("%s ran %d times in a and %d in b; want both", job, perNode["a"], perNode["b"])
		}
		t.Logf("%s: %d slots, run %d times by a and %d by b", job, claimed, perNode["a"], perNode["b"])
	}
}

// buildServer builds the server binary as it ships (no race detector).
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// postgresURL is the URL of db, a database of the test server.
func postgresURL(t *testing.T, db *database.DB) string {
	t.Helper()
	var name string
	if err := db.Raw(`SELECT current_database()`).Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	base := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if base == "" {
		base = testdb.DefaultPostgres
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// serverProcess is the server binary running in a process of its own,
// with the job runner's lines of its log kept.
type serverProcess struct {
	name, base, data string
	cmd              *exec.Cmd
	done             chan struct{} // the log is read to its end

	mu       sync.Mutex
	jobs     []string
	problems []string // warnings and errors
	tail     []string
}

func startServerProcess(t *testing.T, bin, name string, env []string) *serverProcess {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Error(err)
		return nil
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &serverProcess{name: name, base: "http://" + addr, data: filepath.Join(dir, "data"), done: make(chan struct{})}
	p.cmd = exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, append([]string{"SWITCHBOARD_ADDR=" + addr, "SWITCHBOARD_DATA_DIR=" + p.data}, env...)...)
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Error(err)
		return nil
	}
	if err := p.cmd.Start(); err != nil {
		t.Error(err)
		return nil
	}
	go p.read(out)
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("process %s, its warnings and errors:\n%s\nlast lines of its log:\n%s", name,
				strings.Join(p.problems, "\n"), strings.Join(p.tail, "\n"))
			p.mu.Unlock()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(p.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("process %s did not become ready in 30 s", name)
			return p
		}
	}
}

func (p *serverProcess) read(out interface{ Read([]byte) (int, error) }) {
	defer close(p.done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		if strings.Contains(line, " job=") {
			p.jobs = append(p.jobs, line)
		}
		if (strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN")) && len(p.problems) < 100 {
			p.problems = append(p.problems, line)
		}
		if p.tail = append(p.tail, line); len(p.tail) > 40 {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
	}
}

// stop ends the process as an operator would (SIGTERM) and waits for its
// log.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Errorf("process %s did not stop within 20 s", p.name)
	}
}

// jobLine is one line of the job runner's log.
type jobLine struct{ msg, job, slot string }

var jobLineRE = regexp.MustCompile(`msg="?([^"=]+?)"? job=(\S+) slot=(\S+)`)

func (p *serverProcess) jobLines() []jobLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []jobLine
	for _, line := range p.jobs {
		if m := jobLineRE.FindStringSubmatch(line); m != nil {
			out = append(out, jobLine{msg: m[1], job: m[2], slot: m[3]})
		}
	}
	return out
}

// acceptWhenAnnounced has op accept ticket id once it hears of it.
func acceptWhenAnnounced(t *testing.T, op *floodSocket, id string) {
	t.Helper()
	for deadline := time.After(10 * time.Second); ; {
		select {
		case a := <-op.of("ticketCreated"):
			if tk, _ := a[0].(map[string]any); tk["ticketId"] == id {
				floodAck(t, op, "acceptTicket", id, tk, tk["ownerId"])
				return
			}
		case <-deadline:
			t.Fatalf("no ticketCreated for %s", id)
		}
	}
}

// lockedRow is a transaction of the test holding a row lock.
type lockedRow struct{ tx *gorm.DB }

// lockConversation locks the chat_sessions row of ticket id: a system
// message in that conversation waits for the lock.
func lockConversation(t *testing.T, db *database.DB, id string) *lockedRow {
	t.Helper()
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	var got string
	if err := tx.Raw(`SELECT id FROM chat_sessions WHERE id = ? FOR UPDATE`, id).Scan(&got).Error; err != nil || got != id {
		tx.Rollback()
		t.Fatalf("locking the conversation of %s: %q %v", id, got, err)
	}
	return &lockedRow{tx: tx}
}

func (l *lockedRow) release(t *testing.T) {
	t.Helper()
	if err := l.tx.Rollback().Error; err != nil {
		t.Fatal(err)
	}
}

func statusOf(t *testing.T, db *database.DB, id string) tickets.Status {
	t.Helper()
	var s tickets.Status
	if err := db.Raw(`SELECT status FROM tickets WHERE id = ?`, id).Scan(&s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// automationRows counts ticket id's audit rows of action by the
// automation.
func automationRows(t *testing.T, db *database.DB, id string, action tickets.Action) int {
	t.Helper()
	trail, err := tickets.AuditTrail(db.DB, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range trail {
		if e.Action == action && e.ActorID == "switchboard:automation" {
			n++
		}
	}
	return n
}

func allDone(t *testing.T, db *database.DB, idle, waiting []string) bool {
	for _, id := range idle {
		if statusOf(t, db, id) != tickets.StatusClosed {
			return false
		}
	}
	for _, id := range waiting {
		if automationRows(t, db, id, tickets.ActionEscalate) == 0 {
			return false
		}
	}
	return true
}
