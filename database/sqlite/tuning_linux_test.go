//go:build linux && cgo

package sqlite

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDriverPragmas: with the Checkpointer the tuned driver holds the
// automatic checkpoint back; without it, SQLite's own automatic
// checkpoints; SQLite's own temp store either way.
func TestDriverPragmas(t *testing.T) {
	for _, c := range []struct {
		tuning              Tuning
		tempStore, autoCkpt string
	}{
		{Tuning{}, "0", "50000"},
		{Tuning{}.Without(Checkpoint), "0", "1000"},
		{Stock, "0", "1000"},
	} {
		db, err := sql.Open(Driver(c.tuning), DSN(filepath.Join(t.TempDir(), "p.db"), "FULL", c.tuning, ""))
		if err != nil {
			t.Fatal(err)
		}
		var tempStore, autoCkpt string
		err = db.QueryRow("PRAGMA temp_store").Scan(&tempStore)
		if err == nil {
			err = db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&autoCkpt)
		}
		db.Close()
		if err != nil || tempStore != c.tempStore || autoCkpt != c.autoCkpt {
			t.Errorf("%v (driver %s): temp_store %s, wal_autocheckpoint %s, %v; want %s, %s",
				c.tuning, Driver(c.tuning), tempStore, autoCkpt, err, c.tempStore, c.autoCkpt)
		}
	}
}

// installProbeEnv makes the test binary install the tuning it names, write
// a database and print what the page cache wrapper saw
// (TestInstallLeavesOut).
const installProbeEnv = "SWITCHBOARD_TEST_INSTALL_PROBE"

// installProbe is the test binary as another process, run by
// TestInstallLeavesOut: a process installs the tuning once.
func installProbe(setting string) (string, error) {
	tuning, err := ParseTuning(setting)
	if err != nil {
		return "", err
	}
	if err := Install(tuning); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "probe")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open(Driver(tuning), DSN(filepath.Join(dir, "probe.db"), "FULL", tuning, ""))
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, s := range []string{"CREATE TABLE rows (n INTEGER PRIMARY KEY, s TEXT)", "INSERT INTO rows (s) VALUES ('one')"} {
		if _, err := db.Exec(s); err != nil {
			return "", err
		}
	}
	asked, _ := pageCacheCounts()
	return fmt.Sprintf("truncations %d", asked), nil
}

// TestInstallLeavesOut: a process installed without the page cache
// wrapper has SQLite's cache alone (the wrapper sees no truncation).
func TestInstallLeavesOut(t *testing.T) {
	for setting, check := range map[string]func(truncations int64) bool{
		"on":            func(tr int64) bool { return tr > 0 },
		"on,-pagecache": func(tr int64) bool { return tr == 0 },
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), installProbeEnv+"="+setting)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", setting, err, out)
		}
		var truncations int64
		if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "truncations %d", &truncations); err != nil {
			t.Fatalf("%s: %q: %v", setting, out, err)
		}
		if !check(truncations) {
			t.Errorf("%s: the wrapper saw %d truncations", setting, truncations)
		}
	}
}
