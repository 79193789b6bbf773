package fanout

import "testing"

// TestPresenceCountsSockets: a user is online from its first socket to
// its last, per tenant; an extra Remove changes nothing.
func TestPresenceCountsSockets(t *testing.T) {
	var p Presence
	steps := []struct {
		op, tenant, id string
		changed        bool
		online         bool
	}{
		{"add", "t", "ann", true, true},
		{"add", "t", "ann", false, true},
		{"add", "u", "ann", true, true},
		{"remove", "t", "ann", false, true},
		{"remove", "t", "ann", true, false},
		{"remove", "t", "ann", false, false},
		{"add", "t", "ann", true, true},
	}
	for i, s := range steps {
		var changed bool
		if s.op == "add" {
			changed = p.Add(s.tenant, s.id)
		} else {
			changed = p.Remove(s.tenant, s.id)
		}
		if changed != s.changed || p.Online(s.tenant, s.id) != s.online {
			t.Errorf("step %d %s %s/%s: changed %v online %v, want %v %v", i, s.op, s.tenant, s.id,
				changed, p.Online(s.tenant, s.id), s.changed, s.online)
		}
	}
	if !p.Online("u", "ann") || p.Online("u", "bob") {
		t.Error("tenants and users are counted apart")
	}
}
