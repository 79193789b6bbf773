// Package reports computes a tenant's ticket figures for a period for
// supervisors: tickets per day, first-response and resolution times
// (medians, p90, histograms), satisfaction, per operator and per team.
// It only reads, through the read pool, one query per figure: counts are
// made in SQL, where both databases agree; percentiles in Go, since
// SQLite has no percentile function and PostgreSQL's interpolates.
package reports

import (
	"math"
	"slices"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// day is one UTC day in milliseconds: tickets' times are stored as Unix
// milliseconds, so created_at / day is the day's number in both databases
// (integer division of positive integers).
const day = int64(24 * time.Hour / time.Millisecond)

// MaxDays bounds a period: a year (and a leap day).
const MaxDays = 366

// Request is what a client asks for: days as YYYY-MM-DD ("" for the
// default period: To today, From 29 days before To), a team and an
// operator ("" = any).
type Request struct {
	From, To       string
	Team, Operator string
}

// Query selects the tickets of a report.
type Query struct {
	// From and To are the first and last days (UTC midnights), inclusive.
	From, To time.Time
	// Team keeps the tickets for that team, Operator those it handles
	// (the ticket's current handler); "" = any.
	Team, Operator string
}

// Report is the figures of a period (docs/protocol.md, Reports).
type Report struct {
	From, To      string // YYYY-MM-DD
	Days          []Day
	FirstResponse Durations
	Resolution    Durations
	CSAT          CSAT
	Operators     []Group
	Teams         []Group
}

// Day is one day's row: tickets created and closed that day, and the
// medians of the tickets created that day (nil: none).
type Day struct {
	Date                string
	Created, Closed     int
	FirstResponseMedian *float64
	ResolutionMedian    *float64
}

// Durations summarises a set of durations, in seconds.
type Durations struct {
	Count       int
	Median, P90 *float64
	Histogram   []Bucket
}

// Bucket counts the durations above the previous bucket's bound and at
// most UpTo seconds (nil: no bound).
type Bucket struct {
	UpTo  *int64
	Count int
}

// bucketBounds are the histogram's bounds in seconds: a minute, five,
// a quarter of an hour, an hour, four, a day; then the rest.
var bucketBounds = []int64{60, 300, 900, 3600, 14400, 86400}

// CSAT summarises the ratings given in the period.
type CSAT struct {
	Average *float64
	Count   int
	// Distribution counts each score, "1" to "5".
	Distribution map[string]int
}

// Group is one operator's or one team's figures.
type Group struct {
	OperatorID, Name, Team string
	// Tickets created in the period.
	Tickets             int
	FirstResponseMedian *float64
	ResolutionMedian    *float64
	CSATAverage         *float64
}

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted:
// the value at position ceil(p/100 · n), counting from 1; nil for none.
// The median is percentile 50: of an even count the lower middle value,
// always one of the durations measured, never a mean of two.
func percentile(sorted []float64, p float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	v := sorted[max(rank, 1)-1]
	return &v
}

// summarise makes Durations of seconds (sorted in place).
func summarise(seconds []float64) Durations {
	slices.Sort(seconds)
	d := Durations{Count: len(seconds), Median: percentile(seconds, 50), P90: percentile(seconds, 90)}
	for _, b := range bucketBounds {
		d.Histogram = append(d.Histogram, Bucket{UpTo: &b})
	}
	d.Histogram = append(d.Histogram, Bucket{})
	for _, s := range seconds {
		i := slices.IndexFunc(bucketBounds, func(b int64) bool { return s <= float64(b) })
		if i < 0 {
			i = len(bucketBounds)
		}
		d.Histogram[i].Count++
	}
	return d
}

// median is the median of seconds (sorted in place).
func median(seconds []float64) *float64 {
	slices.Sort(seconds)
	return percentile(seconds, 50)
}

func mean(sum, n int) *float64 {
	if n == 0 {
		return nil
	}
	v := float64(sum) / float64(n)
	return &v
}

func mustSupervise(p switchboard.Principal) error {
	if !p.IsSupervisor() {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "only supervisors read reports")
	}
	return nil
}
