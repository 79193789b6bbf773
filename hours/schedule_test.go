package hours

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard"
)

func mustParse(t *testing.T, w Wire) Schedule {
	t.Helper()
	s, err := Parse(w)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func at(t *testing.T, zone, local string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", local, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// office is weekdays 09:00–12:00 and 13:00–17:00 in Berlin, Saturday
// mornings, closed on Christmas Day.
func office(t *testing.T) Schedule {
	day := []WireInterval{{"09:00", "12:00"}, {"13:00", "17:00"}}
	return mustParse(t, Wire{TimeZone: "Europe/Berlin", Weekly: map[string][]WireInterval{
		"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": {{"10:00", "12:00"}}},
		Holidays: []string{"2026-12-25"}})
}

func TestOpen(t *testing.T) {
	s := office(t)
	for _, c := range []struct {
		local string
		want  bool
	}{
		{"2026-12-07 08:59", false}, // Monday, before opening
		{"2026-12-07 09:00", true},  // opening is inclusive
		{"2026-12-07 11:59", true},
		{"2026-12-07 12:00", false}, // lunch: the end is exclusive
		{"2026-12-07 13:30", true},
		{"2026-12-07 17:00", false},
		{"2026-12-12 11:00", true},  // Saturday morning
		{"2026-12-13 11:00", false}, // Sunday
		{"2026-12-25 10:00", false}, // Christmas, a Friday
		{"2026-12-24 10:00", true},
	} {
		if got := Open(s, at(t, "Europe/Berlin", c.local)); got != c.want {
			t.Errorf("Open at %s Berlin = %v, want %v", c.local, got, c.want)
		}
	}
	// The same instant seen from another zone is the same answer.
	if !Open(s, at(t, "America/New_York", "2026-12-07 04:00")) { // 10:00 in Berlin
		t.Error("04:00 in New York is 10:00 in Berlin: open")
	}
	// Holidays are dates in the schedule's zone: 23:30 UTC on the 24th is
	// already Christmas in Berlin.
	late := mustParse(t, Wire{TimeZone: "Europe/Berlin", Weekly: map[string][]WireInterval{"fri": {{"00:00", "24:00"}}},
		Holidays: []string{"2026-12-25"}})
	if Open(late, time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC)) {
		t.Error("00:30 on Christmas in Berlin is a holiday")
	}
	if Open(Schedule{}, time.Now()) {
		t.Error("the zero schedule is never open")
	}
}

// TestOpenAcrossDaylightSaving: the hours are wall-clock hours on both
// sides of a change, and the hour the clocks skip or repeat is handled.
func TestOpenAcrossDaylightSaving(t *testing.T) {
	s := mustParse(t, Wire{TimeZone: "Europe/Berlin", Weekly: map[string][]WireInterval{
		"sun": {{"01:00", "04:00"}}, "mon": {{"09:00", "17:00"}}}})
	// Spring forward on 2026-03-29: 02:00 CET becomes 03:00 CEST.
	if !Open(s, time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)) { // 01:30 CET
		t.Error("01:30 CET before the change: open")
	}
	if !Open(s, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) { // 03:30 CEST
		t.Error("03:30 CEST after the change: open")
	}
	if Open(s, time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC)) { // 04:00 CEST
		t.Error("04:00 CEST: closed")
	}
	// 09:00 on the Mondays either side is 08:00 UTC in winter, 07:00 in summer.
	if !Open(s, time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)) || Open(s, time.Date(2026, 3, 30, 6, 59, 0, 0, time.UTC)) ||
		!Open(s, time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)) {
		t.Error("09:00 Berlin is 08:00 UTC before the change and 07:00 UTC after it")
	}
	// Fall back on 2026-10-25: 02:30 happens twice, open both times.
	if !Open(s, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)) || !Open(s, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)) {
		t.Error("the repeated 02:30 is open both times")
	}
}

func TestNextOpen(t *testing.T) {
	s := office(t)
	berlin := func(local string) time.Time { return at(t, "Europe/Berlin", local) }
	for _, c := range []struct{ from, want string }{
		{"2026-12-07 10:00", "2026-12-07 10:00"}, // open now: now
		{"2026-12-07 07:00", "2026-12-07 09:00"},
		{"2026-12-07 12:15", "2026-12-07 13:00"}, // after lunch
		{"2026-12-07 17:00", "2026-12-08 09:00"},
		{"2026-12-12 12:00", "2026-12-14 09:00"}, // Saturday noon: Monday
		{"2026-12-24 17:30", "2026-12-26 10:00"}, // Christmas skipped: Saturday
	} {
		got, ok := NextOpen(s, berlin(c.from))
		if !ok || !got.Equal(berlin(c.want)) {
			t.Errorf("NextOpen from %s = %v %v, want %s", c.from, got.In(s.Zone), ok, c.want)
		}
	}
	// An opening in the hour the clocks skip is the first instant after it.
	gap := mustParse(t, Wire{TimeZone: "Europe/Berlin", Weekly: map[string][]WireInterval{"sun": {{"02:30", "05:00"}}}})
	got, ok := NextOpen(gap, time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC))
	if !ok || !Open(gap, got) || got.After(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) || got.Before(time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("opening at a skipped 02:30: %v %v, want from 03:00 CEST on", got, ok)
	}
	// Across the change, 09:00 local is an hour earlier in UTC.
	mon := mustParse(t, Wire{TimeZone: "Europe/Berlin", Weekly: map[string][]WireInterval{"mon": {{"09:00", "17:00"}}}})
	if got, ok := NextOpen(mon, time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC)); !ok || !got.Equal(time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("next Monday 09:00 CEST: %v", got)
	}
	// Never open: no next opening.
	if _, ok := NextOpen(mustParse(t, Wire{TimeZone: "UTC"}), time.Now()); ok {
		t.Error("a schedule without intervals never opens")
	}
}

func TestParseRefuses(t *testing.T) {
	day := func(ivs ...WireInterval) map[string][]WireInterval { return map[string][]WireInterval{"mon": ivs} }
	for name, w := range map[string]Wire{
		"no zone":         {Weekly: day(WireInterval{"09:00", "17:00"})},
		"unknown zone":    {TimeZone: "Mars/Olympus"},
		"Local":           {TimeZone: "Local"},
		"bad day":         {TimeZone: "UTC", Weekly: map[string][]WireInterval{"monday": {{"09:00", "17:00"}}}},
		"bad time":        {TimeZone: "UTC", Weekly: day(WireInterval{"9", "17:00"})},
		"25:00":           {TimeZone: "UTC", Weekly: day(WireInterval{"09:00", "25:00"})},
		"24:30":           {TimeZone: "UTC", Weekly: day(WireInterval{"09:00", "24:30"})},
		"backwards":       {TimeZone: "UTC", Weekly: day(WireInterval{"17:00", "09:00"})},
		"empty interval":  {TimeZone: "UTC", Weekly: day(WireInterval{"09:00", "09:00"})},
		"overlap":         {TimeZone: "UTC", Weekly: day(WireInterval{"09:00", "12:00"}, WireInterval{"11:00", "13:00"})},
		"bad holiday":     {TimeZone: "UTC", Holidays: []string{"25.12.2026"}},
		"bad email":       {TimeZone: "UTC", Email: "not an address"},
		"named email":     {TimeZone: "UTC", Email: "Support <s@example.com>"},
		"two emails":      {TimeZone: "UTC", Email: "a@example.com, b@example.com"},
		"header in email": {TimeZone: "UTC", Email: "a@example.com\r\nBcc: x@example.com"},
	} {
		if _, err := Parse(w); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("%s: %v, want INVALID_REQUEST", name, err)
		}
	}
}

func TestWireRoundTrip(t *testing.T) {
	s := office(t)
	s.Email = "support@example.com"
	back, err := decode(s.encode())
	if err != nil {
		t.Fatal(err)
	}
	if back.encode() != s.encode() || back.Zone.String() != "Europe/Berlin" || !back.Holidays[Date{2026, 12, 25}] {
		t.Fatalf("round trip: %s\n vs %s", back.encode(), s.encode())
	}
	if w := s.Wire(); len(w.Weekly["mon"]) != 2 || w.Weekly["mon"][1] != (WireInterval{"13:00", "17:00"}) || w.Weekly["sun"] != nil {
		t.Fatalf("wire %+v", w)
	}
}
