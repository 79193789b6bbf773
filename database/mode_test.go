package database

import (
	"fmt"
	"os"
	"testing"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// TestMain lets the test binary act as another process that reads a
// database (otherProcessEnv), and otherwise runs the tests.
//
// SWITCHBOARD_SQLITE_TUNING=off runs them on stock SQLite, and
// "on,-walbatch" without the batching VFS (testOptions), as the server's
// setting of that name does: the tuning is installed in a process before
// its first SQLite connection, so one process tests one mode.
func TestMain(m *testing.M) {
	if path := os.Getenv(otherProcessEnv); path != "" {
		fmt.Print(readAsAnotherProcess(path))
		os.Exit(0)
	}
	if tuning := testOptions(Options{}).SQLite; tuning.On() && sqlite.Available {
		// Before any test opens SQLite, whatever the order they run in:
		// some open a stock database beside the tuned ones.
		if err := sqlite.Install(tuning); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// testOptions is opts in the SQLite mode the tests run in.
func testOptions(opts Options) Options {
	tuning, err := sqlite.ParseTuning(os.Getenv("SWITCHBOARD_SQLITE_TUNING"))
	if err != nil {
		panic(err)
	}
	opts.SQLite = tuning
	return opts
}

// stopCheckpointer stops a tuned database's checkpointer, so that the
// syncs a test counts are its commits' only.
func stopCheckpointer(db *DB) {
	if db.ckpt != nil {
		db.ckpt.Close()
		db.ckpt = nil
	}
}
