package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// devConfig is the default configuration (no issuer) on addr, in dir.
func devConfig(t *testing.T, addr, dir string, env map[string]string) Config {
	t.Helper()
	cfg, err := Load("switchboard", nil, testEnv(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = addr
	cfg.Database = filepath.Join(dir, "switchboard.db")
	cfg.DataDir = filepath.Join(dir, "data")
	return cfg
}

func TestDevIssuerRefusedOffLoopback(t *testing.T) {
	dir := t.TempDir()
	a, err := New(devConfig(t, "0.0.0.0:0", dir, nil), slog.New(slog.DiscardHandler))
	if err == nil {
		a.closeStores()
		t.Fatal("the development issuer started on 0.0.0.0 without SWITCHBOARD_DEV")
	}
	for _, want := range []string{"SWITCHBOARD_OIDC_ISSUER", "SWITCHBOARD_DEV"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	// Refused before anything was created.
	for _, name := range []string{"switchboard.db", "data"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a refused start created %s", name)
		}
	}
}

func TestDevIssuerOffLoopbackWithDevSwitch(t *testing.T) {
	var logs bytes.Buffer
	cfg := devConfig(t, "0.0.0.0:0", t.TempDir(), map[string]string{"SWITCHBOARD_DEV": "true"})
	if !cfg.Dev {
		t.Fatal("SWITCHBOARD_DEV=true did not set Dev")
	}
	a, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.closeStores()
	defer a.listener.Close()
	if a.dev == nil {
		t.Fatal("no development issuer with SWITCHBOARD_DEV=true")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "DEVELOPMENT MODE") {
		t.Errorf("development mode off loopback was not logged at warn level:\n%s", logs.String())
	}
}

// The README's first command: on 127.0.0.1 the development issuer starts
// as before and its tokens work.
func TestDevIssuerOnLoopback(t *testing.T) {
	n := startNode(t, t.TempDir())
	if n.app.dev == nil {
		t.Fatal("no development issuer on 127.0.0.1")
	}
	code, _ := rest(t, n, http.MethodGet, "/api/v1/tickets", n.token(t, "operator-1"), "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/tickets with a development token: %d", code)
	}
}

func TestDevFlag(t *testing.T) {
	cfg, err := Load("switchboard", []string{"--dev"}, testEnv(nil), io.Discard)
	if err != nil || !cfg.Dev {
		t.Fatalf("--dev: Dev=%v, err %v", cfg.Dev, err)
	}
}
