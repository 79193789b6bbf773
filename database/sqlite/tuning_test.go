package sqlite

import (
	"strings"
	"testing"
)

// TestParseTuning: the setting's values read back as written, a mechanism
// needs its "-", "off" takes none, and Uses follows what each needs.
func TestParseTuning(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "on",
		"on":                          "on",
		" OFF ":                       "off",
		"on,-walbatch":                "on,-walbatch",
		"on, -checkpointer,-walbatch": "on,-walbatch,-checkpointer",
	} {
		got, err := ParseTuning(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseTuning(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "on,walbatch", "on,-turbo", "off,-walbatch", "on,"} {
		if got, err := ParseTuning(bad); err == nil {
			t.Errorf("ParseTuning(%q) = %v, want an error", bad, got)
		}
	}
	all := Tuning{}
	for m := range mechanisms {
		if !all.Uses(m) || Stock.Uses(m) {
			t.Errorf("%s: on uses it %v, off %v", m, all.Uses(m), Stock.Uses(m))
		}
		without := all.Without(m)
		if without.Uses(m) || !without.On() {
			t.Errorf("on,-%s: uses it %v, on %v", m, without.Uses(m), without.On())
		}
	}
	if all.Without(WriterConn).Uses(Direct) || all.Without(Checkpoint).Uses(Writeback) {
		t.Error("Direct runs without the Writer, or the writeback without the Checkpointer")
	}
}

// TestDSNNamesTheVFSOnlyWithIt: without the batching VFS a tuned
// database is opened with SQLite's own.
func TestDSNNamesTheVFSOnlyWithIt(t *testing.T) {
	if dsn := DSN("a.db", "FULL", Tuning{}, ""); !strings.Contains(dsn, "vfs="+VFS) {
		t.Errorf("all on: %s names no VFS", dsn)
	}
	for _, tuning := range []Tuning{Stock, Tuning{}.Without(WALBatch)} {
		if dsn := DSN("a.db", "FULL", tuning, ""); strings.Contains(dsn, "vfs=") {
			t.Errorf("%v: %s names a VFS", tuning, dsn)
		}
	}
}
