// Package hours knows when a tenant, or one of its teams, takes chats:
// business hours as a weekly schedule in a time zone, with holidays, and
// whether anyone is there to answer. Outside them the widget says so and
// collects a message and an email address instead of a live chat.
package hours

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// Schedule is one tenant's or team's business hours. The zero value is
// never open; a tenant with no stored schedule is always open (Store).
type Schedule struct {
	// Zone is where the schedule's wall-clock times and dates are read.
	Zone *time.Location
	// Week holds each weekday's open intervals (time.Sunday = 0), sorted
	// and not overlapping.
	Week [7][]Interval
	// Holidays are dates (in Zone) closed all day, whatever the weekday.
	Holidays map[Date]bool
	// Email is where offline tickets are announced ("" = the server's
	// SWITCHBOARD_OFFLINE_EMAIL_TO).
	Email string
}

// Interval is open from From up to, not including, To: minutes after
// local midnight, 0 ≤ From < To ≤ 24*60. Hours across midnight are two
// intervals, one on each day.
type Interval struct{ From, To int }

// Date is a calendar date in a schedule's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func dateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

// String is the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Open reports whether s is open at t: t is not on a holiday in s's zone
// and its local wall-clock time falls in one of that weekday's intervals.
// Daylight saving needs no care here: an hour the clocks skip is never
// local time, an hour they repeat is open both times if its interval is.
func Open(s Schedule, t time.Time) bool {
	if s.Zone == nil {
		return false
	}
	local := t.In(s.Zone)
	if s.Holidays[dateOf(local)] {
		return false
	}
	h, m, sec := local.Clock()
	at := h*3600 + m*60 + sec
	for _, iv := range s.Week[local.Weekday()] {
		if at >= iv.From*60 && at < iv.To*60 {
			return true
		}
	}
	return false
}

// horizon is how far NextOpen looks: a year and a week of holidays and
// empty days is closed for good, as far as a visitor cares.
const horizon = 373

// NextOpen is the first instant at or after t when s is open, or false if
// it does not open within a year.
func NextOpen(s Schedule, t time.Time) (time.Time, bool) {
	if s.Zone == nil {
		return time.Time{}, false
	}
	if Open(s, t) {
		return t, true
	}
	local := t.In(s.Zone)
	y, m, d := local.Date()
	for i := 0; i <= horizon; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, s.Zone)
		if s.Holidays[dateOf(day)] {
			continue
		}
		for _, iv := range s.Week[day.Weekday()] {
			if at, ok := firstOpenIn(s, day, iv, t); ok {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

// firstOpenIn is the first open instant after t within interval iv of
// day. The interval's start may not exist that day (the clocks skipped
// it, and time.Date moves it by the jump): the start, then a half hour
// and an hour later, are tried, each checked with Open.
func firstOpenIn(s Schedule, day time.Time, iv Interval, t time.Time) (time.Time, bool) {
	y, m, d := day.Date()
	start := time.Date(y, m, d, iv.From/60, iv.From%60, 0, 0, s.Zone)
	for _, at := range []time.Time{start, start.Add(30 * time.Minute), start.Add(time.Hour)} {
		if at.After(t) && Open(s, at) {
			return at, true
		}
	}
	return time.Time{}, false
}

// Wire is a schedule as the REST API and the store have it:
//
//	{"timeZone": "Europe/Berlin",
//	 "weekly": {"mon": [{"from": "09:00", "to": "17:00"}], ...},
//	 "holidays": ["2026-12-25"], "email": "support@example.com"}
type Wire struct {
	TimeZone string                    `json:"timeZone"`
	Weekly   map[string][]WireInterval `json:"weekly"`
	Holidays []string                  `json:"holidays"`
	Email    string                    `json:"email"`
}

// WireInterval is an Interval as "HH:MM" times; "24:00" ends a day.
type WireInterval struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Bounds of a schedule: a working week fits many times over.
const (
	maxIntervalsPerDay = 12
	maxHolidays        = 400
	maxEmailBytes      = 254
)

var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-4]):([0-5][0-9])$`)

// invalid is every reason Parse refuses a schedule: INVALID_REQUEST.
func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.EINVALID, "schedule: "+format, args...)
}

// Parse checks a wire schedule and compiles it. Unknown weekdays, times
// that are not HH:MM, empty or overlapping intervals, bad dates, unknown
// zones and addresses that are not one plain address are refused.
func Parse(w Wire) (Schedule, error) {
	var s Schedule
	if w.TimeZone == "" {
		return s, invalid("timeZone is required (an IANA zone such as Europe/Berlin, or UTC)")
	}
	zone, err := time.LoadLocation(w.TimeZone)
	if err != nil || strings.EqualFold(w.TimeZone, "local") {
		return s, invalid("timeZone %q is not an IANA time zone", w.TimeZone)
	}
	s.Zone = zone
	var seen [7]bool
	for key, ivs := range w.Weekly {
		day := weekdayOf(key)
		switch {
		case day < 0:
			return s, invalid("weekly: %q is not one of sun, mon, tue, wed, thu, fri, sat", key)
		case seen[day]:
			return s, invalid("weekly: %s is given twice", weekdays[day])
		}
		seen[day] = true
		if s.Week[day], err = parseDay(key, ivs); err != nil {
			return s, err
		}
	}
	if len(w.Holidays) > maxHolidays {
		return s, invalid("more than %d holidays", maxHolidays)
	}
	for _, h := range w.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return s, invalid("holiday %q is not a date YYYY-MM-DD", h)
		}
		if s.Holidays == nil {
			s.Holidays = map[Date]bool{}
		}
		s.Holidays[dateOf(d)] = true
	}
	if s.Email, err = checkEmail(w.Email); err != nil {
		return s, err
	}
	return s, nil
}

func weekdayOf(key string) int {
	for i, name := range weekdays {
		if strings.EqualFold(key, name) {
			return i
		}
	}
	return -1
}

func parseDay(key string, ivs []WireInterval) ([]Interval, error) {
	if len(ivs) > maxIntervalsPerDay {
		return nil, invalid("weekly.%s: more than %d intervals", key, maxIntervalsPerDay)
	}
	out := make([]Interval, 0, len(ivs))
	for _, w := range ivs {
		from, okFrom := minutes(w.From)
		to, okTo := minutes(w.To)
		switch {
		case !okFrom || !okTo:
			return nil, invalid("weekly.%s: %q–%q: times are HH:MM, 00:00 to 24:00", key, w.From, w.To)
		case from >= to:
			return nil, invalid("weekly.%s: %s–%s ends before it starts (split hours across midnight in two days)", key, w.From, w.To)
		}
		out = append(out, Interval{from, to})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From < out[j].From })
	for i := 1; i < len(out); i++ {
		if out[i].From < out[i-1].To {
			return nil, invalid("weekly.%s: intervals overlap", key)
		}
	}
	return out, nil
}

// minutes reads "HH:MM" as minutes after midnight; "24:00" is the day's end.
func minutes(s string) (int, bool) {
	m := clockTime.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, min := int(m[1][0]-'0')*10+int(m[1][1]-'0'), int(m[2][0]-'0')*10+int(m[2][1]-'0')
	if h == 24 && min != 0 {
		return 0, false
	}
	return h*60 + min, true
}

// checkEmail accepts "" or one bare address (no name, no list), so that
// nothing but an address ever reaches a mail header.
func checkEmail(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > maxEmailBytes {
		return "", invalid("email %q is not one plain address", s)
	}
	return s, nil
}

// Wire is s in its wire form, as Parse reads it.
func (s Schedule) Wire() Wire {
	w := Wire{Weekly: map[string][]WireInterval{}, Holidays: []string{}, Email: s.Email}
	if s.Zone != nil {
		w.TimeZone = s.Zone.String()
	}
	for day, ivs := range s.Week {
		for _, iv := range ivs {
			w.Weekly[weekdays[day]] = append(w.Weekly[weekdays[day]], WireInterval{clock(iv.From), clock(iv.To)})
		}
	}
	for d := range s.Holidays {
		w.Holidays = append(w.Holidays, d.String())
	}
	sort.Strings(w.Holidays)
	return w
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// encode is the stored form of s.
func (s Schedule) encode() string {
	b, _ := json.Marshal(s.Wire()) // strings and slices always marshal
	return string(b)
}

// decode reads the stored form.
func decode(raw string) (Schedule, error) {
	var w Wire
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return Schedule{}, err
	}
	return Parse(w)
}
