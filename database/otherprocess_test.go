package database

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
)

// otherProcessEnv names the database file the test binary, started again
// as another process, reads (TestAnotherProcessReadsWhileTheServerWrites).
const otherProcessEnv = "SWITCHBOARD_TEST_OTHER_PROCESS_DB"

// readAsAnotherProcess reads the database the way another program would
// (the sqlite3 shell, a backup or monitoring script): read-only, through
// the stock driver and the unix VFS.
func readAsAnotherProcess(path string) string {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return "error: " + err.Error()
	}
	defer db.Close()
	var messages, rows int
	if err := db.QueryRow(`SELECT count(*) FROM messages`).Scan(&messages); err != nil {
		return "error: " + err.Error()
	}
	if err := db.QueryRow(`SELECT count(*) FROM rows`).Scan(&rows); err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("messages: %d, rows: %d", messages, rows)
}

// TestAnotherProcessReadsWhileTheServerWrites: while the server has its
// database open and commits to it, another process can open it read-only
// and query it, and sees what was committed before it started.
func TestAnotherProcessReadsWhileTheServerWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	db, err := OpenWith(path, testOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Logf("SQLite tuning: %v", db.Tuned)
	if err := db.Exec(`CREATE TABLE rows (n INTEGER PRIMARY KEY AUTOINCREMENT, b BLOB NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	c := NewCommitter(db, nil, CommitterOptions{})
	defer c.Close()
	insert := func(tx *gorm.DB) ([]switchboard.Event, error) {
		_, err := Exec(tx, `INSERT INTO rows (b) VALUES (randomblob(3000))`)
		return nil, err
	}
	const before = 100
	for range before {
		if err := c.Run(context.Background(), insert); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	wrote := make(chan error, 1)
	go func() { // the server goes on writing while the other process reads
		for {
			select {
			case <-stop:
				wrote <- nil
				return
			default:
			}
			if err := c.Run(context.Background(), insert); err != nil {
				wrote <- err
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), otherProcessEnv+"="+path)
	out, err := cmd.CombinedOutput()
	close(stop)
	if werr := <-wrote; werr != nil {
		t.Fatalf("the server's writes failed while another process read: %v", werr)
	}
	if err != nil {
		t.Fatalf("another process: %v\n%s", err, out)
	}
	var messages, rows int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "messages: %d, rows: %d", &messages, &rows); err != nil {
		t.Fatalf("another process could not read the database while the server had it open: %q", out)
	}
	if rows < before {
		t.Fatalf("another process saw %d rows, want at least the %d committed before it started", rows, before)
	}
}
