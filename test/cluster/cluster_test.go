// Package cluster tests several Switchboard nodes as they run in
// production: the server binary in processes of its own, on a real
// PostgreSQL and Redis, behind nginx with deploy/nginx.conf, driven by
// the Socket.IO Go client through nginx. Nodes are killed (SIGKILL),
// drained (SIGTERM) and restarted one after another under a steady load;
// no acknowledged message may be lost, nor reach its recipient out of
// order.
package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/testdb"
	"github.com/switchboard-chat/switchboard/internal/testredis"
)

// cluster is the nodes and the nginx in front of them.
type cluster struct {
	t     *testing.T
	bin   string
	dir   string
	env   []string // every node's settings
	nodes []*node
	base  string // nginx
}

// node is one server process at a fixed address (nginx knows it), which
// survives restarts.
type node struct {
	name, addr string
	cmd        *exec.Cmd
	exited     chan struct{}
	mu         sync.Mutex
	tail       []string
}

// startCluster builds the server and runs n nodes and nginx; extra
// settings override the cluster's.
func startCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	nginx := findNginx(t)
	dbURL := testdb.PostgresURL(t)
	redisURL, prefix := testredis.Open(t)
	c := &cluster{t: t, bin: buildServer(t), dir: t.TempDir()}
	c.env = []string{"SWITCHBOARD_DATABASE=" + dbURL, "SWITCHBOARD_REDIS_URL=" + redisURL,
		"SWITCHBOARD_REDIS_PREFIX=" + prefix, "SWITCHBOARD_DATA_DIR=" + filepath.Join(c.dir, "data"),
		"SWITCHBOARD_TRUSTED_PROXIES=127.0.0.1", "SWITCHBOARD_PRESENCE_TIMEOUT=3s",
		"SWITCHBOARD_RATE_MESSAGES=-1", "SWITCHBOARD_RATE_EVENTS=-1",
		"SWITCHBOARD_MAX_CONNS_PER_IP=-1", "SWITCHBOARD_MAX_CONNS_PER_PRINCIPAL=-1"}
	c.env = append(c.env, extra...)
	var upstreams strings.Builder
	for i := range n {
		nd := &node{name: fmt.Sprintf("node-%d", i+1), addr: freeAddr(t)}
		c.nodes = append(c.nodes, nd)
		fmt.Fprintf(&upstreams, "\tserver %s max_fails=1 fail_timeout=2s;\n", nd.addr)
	}
	for _, nd := range c.nodes {
		c.start(nd)
	}
	c.base = "http://" + startNginx(t, nginx, upstreams.String())
	return c
}

// issuer is the first node's development issuer, whose tokens every node
// accepts.
func (c *cluster) issuer() string { return "http://" + c.nodes[0].addr + "/oidc" }

// start runs nd and waits until it is ready.
func (c *cluster) start(nd *node) {
	t := c.t
	t.Helper()
	nd.cmd = exec.Command(c.bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			nd.cmd.Env = append(nd.cmd.Env, kv)
		}
	}
	nd.cmd.Env = append(nd.cmd.Env, c.env...)
	nd.cmd.Env = append(nd.cmd.Env, "SWITCHBOARD_ADDR="+nd.addr, "SWITCHBOARD_NODE_ID="+nd.name)
	if nd != c.nodes[0] {
		nd.cmd.Env = append(nd.cmd.Env, "SWITCHBOARD_OIDC_ISSUER="+c.issuer(), "SWITCHBOARD_OIDC_ACCEPT_JWT_TYP=true")
	}
	out, err := nd.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := nd.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nd.exited = make(chan struct{})
	cmd, exited := nd.cmd, nd.exited
	go func() {
		nd.read(out)
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			nd.mu.Lock()
			t.Logf("%s, last lines of its log:\n%s", nd.name, strings.Join(nd.tail, "\n"))
			nd.mu.Unlock()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if status(t, "http://"+nd.addr+"/readyz") == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready in 30 s", nd.name)
		}
	}
}

// read keeps the last lines of the node's log.
func (nd *node) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		nd.mu.Lock()
		if nd.tail = append(nd.tail, sc.Text()); len(nd.tail) > 40 {
			nd.tail = nd.tail[1:]
		}
		nd.mu.Unlock()
	}
}

// kill9 kills nd as a crash does and waits for it to be gone.
func (c *cluster) kill9(nd *node) {
	_ = nd.cmd.Process.Signal(syscall.SIGKILL)
	<-nd.exited
}

// drain sends nd SIGTERM, checks that /readyz fails while it drains, and
// waits for a clean exit within limit.
func (c *cluster) drain(nd *node, limit time.Duration) {
	t := c.t
	t.Helper()
	if err := nd.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	readyFailed := false
	for !readyFailed && time.Since(start) < limit {
		select {
		case <-nd.exited:
			t.Fatalf("%s exited before /readyz was seen failing", nd.name)
		default:
		}
		s := status(t, "http://"+nd.addr+"/readyz")
		readyFailed = s == http.StatusServiceUnavailable || s == 0
	}
	select {
	case <-nd.exited:
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %v of SIGTERM", nd.name, limit)
	}
	if code := nd.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with %d after SIGTERM, want 0", nd.name, code)
	}
	t.Logf("%s drained and exited in %v", nd.name, time.Since(start).Round(time.Millisecond))
}

// status is a GET's status, 0 when the request fails.
func status(t *testing.T, url string) int {
	client := http.Client{Timeout: 2 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// startNginx runs nginx with deploy/nginx.conf in front of the servers
// of upstreams, and returns its address.
func startNginx(t *testing.T, nginx, upstreams string) string {
	t.Helper()
	dir := t.TempDir()
	conf, err := os.ReadFile("../../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	files := map[string]string{
		"nginx.conf":                 string(conf),
		"switchboard-listen.conf":    "listen " + addr + ";\n",
		"switchboard-upstreams.conf": "upstream switchboard_ws {\n\tleast_conn;\n" + upstreams + "\tkeepalive 64;\n}\nupstream switchboard_polling {\n\tip_hash;\n" + upstreams + "\tkeepalive 64;\n}\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", "nginx.conf", "-g", "daemon off;"+runAs())
	var log strings.Builder
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("nginx's log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); status(t, "http://"+addr+"/healthz") != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer in 10 s: %s", log.String())
		}
	}
	return addr
}

// runAs keeps nginx's workers as the user running the test (root's
// default, nobody, could not write its temporary files).
func runAs() string {
	if os.Geteuid() == 0 {
		return " user root;"
	}
	return ""
}

// findNginx is Debian's nginx (scripts/test.sh installs it); a laptop
// without it skips, CI fails.
func findNginx(t *testing.T) string {
	for _, p := range []string{"/usr/sbin/nginx", "nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed (apt-get install nginx-light)")
	}
	t.Skip("nginx is not installed (apt-get install nginx-light); set CI to make this fail")
	return ""
}

func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/switchboard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getJSON GETs a REST path through nginx with a bearer token, decoding
// the answer into out; it returns the next page's path from Link.
func (c *cluster) getJSON(path, token string, out any) (next string, err error) {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	client := http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		return "", fmt.Errorf("GET %s: %d %s", path, res.StatusCode, body)
	}
	if link := res.Header.Get("Link"); link != "" {
		next, _, _ = strings.Cut(strings.TrimPrefix(link, "<"), ">")
	}
	return next, json.NewDecoder(res.Body).Decode(out)
}

// messagesSince lists a ticket's message ids after since ("" = all), in
// commit order, following every page: the catch-up of docs/protocol.md.
func (c *cluster) messagesSince(ticket, since, token string) ([]string, error) {
	path := "/api/v1/tickets/" + ticket + "/messages?limit=500"
	if since != "" {
		path += "&since=" + since
	}
	var ids []string
	for path != "" {
		var page []struct {
			MessageID string `json:"messageId"`
		}
		next, err := c.getJSON(path, token, &page)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			ids = append(ids, m.MessageID)
		}
		path = next
	}
	return ids, nil
}
