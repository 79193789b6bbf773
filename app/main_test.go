package app

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// TestMain installs the SQLite tuning before any test opens SQLite (some
// read a server's file with the stock driver, whatever order they run in),
// unless SWITCHBOARD_SQLITE_TUNING=off runs the tests on stock SQLite.
func TestMain(m *testing.M) {
	if !strings.EqualFold(os.Getenv("SWITCHBOARD_SQLITE_TUNING"), "off") && sqlite.Available {
		if err := sqlite.Install(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
