package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRefusesDevIssuerOffLoopback runs the binary's main (this test binary
// runs itself as the server) on 0.0.0.0 with no issuer: it must exit
// non-zero and say what to set, not serve demo sign-ins to the network.
func TestRefusesDevIssuerOffLoopback(t *testing.T) {
	if os.Getenv("SWITCHBOARD_TEST_RUN_MAIN") == "1" {
		os.Args = []string{"switchboard"}
		main()
		return
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRefusesDevIssuerOffLoopback$")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"SWITCHBOARD_TEST_RUN_MAIN=1",
		"SWITCHBOARD_ADDR=0.0.0.0:0",
		"SWITCHBOARD_DATABASE="+filepath.Join(dir, "switchboard.db"),
		"SWITCHBOARD_DATA_DIR="+filepath.Join(dir, "data"),
		"SWITCHBOARD_IDLE_MONITOR_THREAD=false",
	)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("the server on 0.0.0.0 without an issuer did not exit non-zero (err %v):\n%s", err, out)
	}
	if ctx.Err() != nil {
		t.Fatalf("the server did not exit by itself:\n%s", out)
	}
	for _, want := range []string{"SWITCHBOARD_OIDC_ISSUER", "SWITCHBOARD_DEV"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal does not name %s:\n%s", want, out)
		}
	}
}
