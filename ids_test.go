package switchboard_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard"
)

func TestScopedIDsNeverCollide(t *testing.T) {
	type pair struct{ program, user string }
	// Pairs that shared an id, or matched a subject, when the parts were
	// joined as they are.
	pairs := []pair{
		{"program-42", "7"}, {"a/b", "c"}, {"a", "b/c"}, {"a%2Fb", "c"}, {"a", "b%2Fc"}, {"a", "b%2F"},
		{"a%", "2Fb"}, {"", "a/b"}, {"", "a%2Fb"}, {"p", ""}, {"", "p/"},
	}
	subjects := []string{"program-42/7", "a/b/c", "a%2Fb/c", "a/b%2Fc", "p/", "a/b", "a%2Fb", "7", "p"}
	seen := map[string]string{}
	note := func(id, what string) {
		if prev, dup := seen[id]; dup {
			t.Errorf("%s and %s both have id %q", prev, what, id)
		}
		seen[id] = what
	}
	for _, p := range pairs {
		if p.program != "" {
			note(switchboard.ScopedUserID(p.program, p.user), "program "+p.program+"'s user "+p.user)
		}
	}
	for _, s := range subjects {
		note(switchboard.SubjectUserID(s), "subject "+s)
	}

	// Ids of subjects and pairs without '/' and '%' are what they were.
	for _, tc := range []struct{ got, want string }{
		{switchboard.SubjectUserID("user-1"), "user-1"},
		{switchboard.SubjectUserID("auth0|5f3c:x@example.com"), "auth0|5f3c:x@example.com"},
		{switchboard.ScopedUserID("program-42", "7"), "program-42/7"},
		{switchboard.ScopedUserID("", "7"), "7"},
		{switchboard.SubjectUserID("program-42/7"), "program-42%2F7"},
		{switchboard.ScopedUserID("a/b", "c%d"), "a%2Fb/c%25d"},
	} {
		if tc.got != tc.want {
			t.Errorf("id %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPrincipalNames(t *testing.T) {
	user := switchboard.Principal{ID: switchboard.SubjectUserID("a/b"), Role: switchboard.RoleUser}
	for name, want := range map[string]bool{"a/b": true, "a%2Fb": true, "a%252Fb": false, "a": false} {
		if got := user.Names(name); got != want {
			t.Errorf("user a/b names itself %q: %v, want %v", name, got, want)
		}
	}
	program := switchboard.Principal{ID: "p%", ProgramID: "p%", Role: switchboard.RoleProgram}
	if !program.Names("p%") || program.Names("p%25") {
		t.Error("a program is named by its id only")
	}
}

func TestRoomsNeverCollide(t *testing.T) {
	operators := func(tenant, _ string) string { return switchboard.OperatorsRoom(tenant) }
	kinds := []struct {
		name string
		f    func(tenant, id string) string
	}{
		{"user", switchboard.UserRoom}, {"operator", switchboard.OperatorRoom},
		{"chat", switchboard.ChatUserRoom}, {"operators", operators},
	}
	pairs := [][2]string{
		{"a:b", "c"}, {"a", "b:c"}, {"a%3Ab", "c"}, {"a", "b%3Ac"}, {"a:", "b"}, {"a", ":b"},
		{"user:a", "b"}, {"a", "b"}, {"chat", "user:a:b"}, {"%", "3A"},
	}
	seen := map[string]string{}
	for _, k := range kinds {
		for _, p := range pairs {
			name := k.f(p[0], p[1])
			what := k.name + " room of (" + p[0] + ", " + p[1] + ")"
			if k.name == "operators" {
				what = "operators room of " + p[0]
			}
			if prev, dup := seen[name]; dup && prev != what {
				t.Errorf("%s and %s are both %q", prev, what, name)
			}
			seen[name] = what
		}
	}
	for _, tc := range []struct{ got, want string }{
		{switchboard.UserRoom("acme", "ann"), "user:acme:ann"},
		{switchboard.OperatorRoom("acme", "op-1"), "operator:acme:op-1"},
		{switchboard.ChatUserRoom("acme", "program-42/7"), "chat:user:acme:program-42/7"},
		{switchboard.OperatorsRoom("acme"), "operators:acme"},
		{switchboard.UserRoom("a:b", "c"), "user:a%3Ab:c"},
		{switchboard.UserRoom("a", "b:c"), "user:a:b%3Ac"},
	} {
		if tc.got != tc.want {
			t.Errorf("room %q, want %q", tc.got, tc.want)
		}
	}
}
