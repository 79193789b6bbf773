package app

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/database"
)

// TestDurabilitySetting: SWITCHBOARD_DURABILITY and --durability choose
// the durability the database is opened with (fsync unless told), and
// any other value stops the server with an error naming the setting.
func TestDurabilitySetting(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want database.Durability
	}{
		{"", nil, database.DurabilityFsync},
		{"os", nil, database.DurabilityOS},
		{"os", []string{"--durability", "fsync"}, database.DurabilityFsync}, // a flag wins
	} {
		cfg, err := Load("switchboard", tc.args, testEnv(map[string]string{"SWITCHBOARD_DURABILITY": tc.env}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		cfg.Addr = "127.0.0.1:0"
		cfg.Database = filepath.Join(dir, "switchboard.db")
		cfg.DataDir = filepath.Join(dir, "data")
		a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		got := a.db.Durability
		var synchronous int
		err = a.db.Writer.Raw("PRAGMA synchronous").Row().Scan(&synchronous)
		a.listener.Close()
		a.closeStores()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want || (synchronous == 2) != (tc.want == database.DurabilityFsync) {
			t.Errorf("env %q args %v: durability %q, writer synchronous=%d; want %q", tc.env, tc.args, got, synchronous, tc.want)
		}
	}
	_, err := Load("switchboard", []string{"--durability", "sometimes"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_DURABILITY") {
		t.Fatalf("--durability sometimes: %v, want an error naming SWITCHBOARD_DURABILITY", err)
	}
}
