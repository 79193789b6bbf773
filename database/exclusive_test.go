package database

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// otherProcessEnv names the database file the test binary, started again
// as another process, tries to read (TestOtherProcessesWaitForTheServer).
const otherProcessEnv = "SWITCHBOARD_TEST_OTHER_PROCESS_DB"

// TestMain lets the test binary act as the other process.
func TestMain(m *testing.M) {
	if path := os.Getenv(otherProcessEnv); path != "" {
		fmt.Print(readAsAnotherProcess(path))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// readAsAnotherProcess reads the database the way another program would
// (the sqlite3 shell, a second server): the plain unix VFS, no waiting.
func readAsAnotherProcess(path string) string {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
	if err != nil {
		return "error: " + err.Error()
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM rows`).Scan(&n); err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("rows: %d", n)
}

// TestOtherProcessesWaitForTheServer: a database is the process's own
// while it is open (the unix-excl VFS under walbatch.c): its WAL index is
// in the heap, not in a -shm file every transaction locks with fcntl
// calls, and another process cannot read it until it is closed.
func TestOtherProcessesWaitForTheServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "own.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO rows (n) VALUES (1), (2)`).Error; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Raw(`SELECT count(*) FROM rows`).Row().Scan(&n); err != nil || n != 2 {
		t.Fatalf("a reader of the same process: %d rows, %v", n, err)
	}
	if _, err := os.Stat(path + "-shm"); !os.IsNotExist(err) {
		t.Fatalf("%s-shm: %v, want no shared-memory file", path, err)
	}
	other := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), otherProcessEnv+"="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("other process: %v: %s", err, out)
		}
		return string(out)
	}
	if got := other(); !strings.Contains(got, "database is locked") {
		t.Fatalf("another process while the database is open: %q, want database is locked", got)
	}
	// The checkpoints' own connection (walpass.go, the same VFS) comes and
	// goes beside the others: the process keeps its lock of the file.
	passes, err := openWALPasses(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.run(); err != nil {
		t.Fatal(err)
	}
	passes.close()
	if got := other(); !strings.Contains(got, "database is locked") {
		t.Fatalf("another process after a checkpoint pass: %q, want database is locked", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := other(); got != "rows: 2" {
		t.Fatalf("another process after close: %q, want rows: 2", got)
	}
}
