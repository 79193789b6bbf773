package app

import (
	"fmt"
	"os"
	"testing"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// TestMain installs the SQLite tuning SWITCHBOARD_SQLITE_TUNING asks for
// (all of it by default) before any test opens SQLite (some read a
// server's file with the stock driver, whatever order they run in),
// unless it is off: the tests then run on stock SQLite.
func TestMain(m *testing.M) {
	tuning, err := sqlite.ParseTuning(os.Getenv("SWITCHBOARD_SQLITE_TUNING"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if tuning.On() && sqlite.Available {
		if err := sqlite.Install(tuning); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
