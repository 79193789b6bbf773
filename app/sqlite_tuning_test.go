package app

import (
	"io"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/database/sqlite"
)

// TestSQLiteTuningSetting: SWITCHBOARD_SQLITE_TUNING is on by default,
// off opens stock SQLite, "on,-mechanism" leaves mechanisms out, and any
// other value is refused with the setting's name; the runtime monitor
// thread stays in its scheduling class unless asked.
func TestSQLiteTuningSetting(t *testing.T) {
	load := func(env map[string]string, args ...string) (Config, error) {
		return Load("switchboard", args, func(k string) string { return env[k] }, io.Discard)
	}
	cfg, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if tuning, err := cfg.SQLite(); err != nil || tuning != (sqlite.Tuning{}) {
		t.Errorf("default: %v, %v; want all of the tuning", tuning, err)
	}
	if cfg.IdleMonitor {
		t.Error("the runtime monitor thread goes to SCHED_IDLE by default")
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": "off"}, nil, "off"},
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": " OFF "}, nil, "off"},
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": "on"}, nil, "on"},
		{map[string]string{"SWITCHBOARD_SQLITE_TUNING": "on,-direct,-walbatch"}, nil, "on,-walbatch,-direct"},
		{nil, []string{"--sqlite-tuning=off"}, "off"},
	} {
		cfg, err := load(c.env, c.args...)
		if err != nil {
			t.Fatalf("%v %v: %v", c.env, c.args, err)
		}
		if tuning, _ := cfg.SQLite(); tuning.String() != c.want {
			t.Errorf("%v %v: %v, want %s", c.env, c.args, tuning, c.want)
		}
	}
	for _, bad := range []string{"fast", "on,walbatch", "on,-turbo", "off,-walbatch"} {
		if _, err := load(map[string]string{"SWITCHBOARD_SQLITE_TUNING": bad}); err == nil ||
			!strings.Contains(err.Error(), "SWITCHBOARD_SQLITE_TUNING") {
			t.Errorf("SWITCHBOARD_SQLITE_TUNING=%s: %v, want an error naming the setting", bad, err)
		}
	}
}
