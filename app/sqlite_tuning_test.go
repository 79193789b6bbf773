package app

import (
	"io"
	"strings"
	"testing"
)

// TestSQLiteTuningSetting: SWITCHBOARD_SQLITE_TUNING is on by default,
// off opens stock SQLite, and any other value is refused with the
// setting's name; the runtime monitor thread stays in its scheduling
// class unless asked.
func TestSQLiteTuningSetting(t *testing.T) {
	load := func(env map[string]string, args ...string) (Config, error) {
		return Load("switchboard", args, func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := cfg.PlainSQLite(); err != nil || plain {
		t.Errorf("default: plain %v, %v; want the tuning on", plain, err)
	}
	if cfg.IdleMonitor {
		t.Error("the runtime monitor thread goes to SCHED_IDLE by default")
	}
	for _, c := range []struct {
		env   map[string]string
		args  []string
		plain bool
	}{
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": "off"}, nil, true},
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": " OFF "}, nil, true},
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": "on"}, nil, false},
		{nil, []string{"--sqlite-tuning=off"}, true},
	} {
		cfg, err := load(c.env, c.args...)
		if err != nil {
			t.Fatalf("%v %v: %v", c.env, c.args, err)
		}
		if plain, _ := cfg.PlainSQLite(); plain != c.plain {
			t.Errorf("%v %v: plain %v, want %v", c.env, c.args, plain, c.plain)
		}
	}
	if _, err := load(map[string]string{"SWITCHBOARD_SQLITE_TUNING": "fast"}); err == nil ||
		!strings.Contains(err.Error(), "SWITCHBOARD_SQLITE_TUNING") {
		t.Errorf("SWITCHBOARD_SQLITE_TUNING=fast: %v, want an error naming the setting", err)
	}
}
