package tickets

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/migrations"
)

func TestMentionedIDs(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"@ann please look", "[ann]"},
		{"ask @ann, @bob-2 and @ann again.", "[ann bob-2]"},
		{"@ann: see @x.y.", "[ann x.y]"},
		{"mail ann@example.com or (@op%2Fa)", "[op%2Fa]"},
		{"@kim@example.com knows", "[kim@example.com]"},
		{"no one@ here, @ alone, @.", "[]"},
		{"é@ann (after a letter) but «@bob»", "[bob]"},
		{"", "[]"},
	} {
		if got := fmt.Sprint(mentionedIDs(tc.content)); got != tc.want {
			t.Errorf("mentionedIDs(%q) = %s, want %s", tc.content, got, tc.want)
		}
	}
}

func TestHighlight(t *testing.T) {
	long := strings.Repeat("é", 400) + " needle " + strings.Repeat("ü", 400)
	for _, tc := range []struct {
		content string
		words   []string
		text    string
		ranges  string
	}{
		{"Printer jammed; PRINTER!", []string{"printer"}, "Printer jammed; PRINTER!", "[[0 7] [16 23]]"},
		{"first line\nthe Straße is wet\nlast", []string{"straße", "wet"}, "the Straße is wet", "[[4 11] [15 18]]"},
		{"printers are not a printer", []string{"printer"}, "printers are not a printer", "[[19 26]]"},
	} {
		text, hs := highlight(tc.content, tc.words)
		if text != tc.text || fmt.Sprint(hs) != tc.ranges {
			t.Errorf("highlight(%q) = %q %v, want %q %s", tc.content, text, hs, tc.text, tc.ranges)
		}
	}
	text, hs := highlight(long, []string{"needle"})
	if len(text) > maxMatchTextBytes || len(hs) != 1 || text[hs[0][0]:hs[0][1]] != "needle" || !strings.HasPrefix(text, "é") {
		t.Errorf("a long line: %d bytes, %v", len(text), hs)
	}
}

// The PostgreSQL search condition is the index's expression, on messages
// AS m: otherwise PostgreSQL would read every message.
func TestPostgresWordsAreTheIndexs(t *testing.T) {
	ms, err := migrations.All("postgres")
	if err != nil {
		t.Fatal(err)
	}
	index := strings.ReplaceAll(postgresMessageWords, "m.content", "content")
	for _, m := range ms {
		if strings.Contains(m.SQL, "messages_words") && strings.Contains(m.SQL, index) {
			return
		}
	}
	t.Fatalf("no migration indexes %s", index)
}
