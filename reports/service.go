package reports

import (
	"context"
	"sort"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Service reads reports through the read pool.
type Service struct {
	db  *database.DB
	now func() time.Time
}

// Options configures a Service. Zero values work.
type Options struct {
	// Now is the clock that says what "today" is (the default period).
	Now func() time.Time
}

// NewService returns the reports of db.
func NewService(db *database.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, now: opts.Now}
}

// period is the days from and to with their defaults: to is today
// (UTC), from 29 days before to. It refuses a period that ends before it
// starts or is longer than MaxDays.
func (s *Service) period(from, to string) (time.Time, time.Time, error) {
	end := s.now().UTC().Truncate(24 * time.Hour)
	var err error
	if to != "" {
		if end, err = time.Parse(time.DateOnly, to); err != nil {
			return end, end, switchboard.Errorf(switchboard.EINVALID, "to must be a date, YYYY-MM-DD")
		}
	}
	start := end.AddDate(0, 0, -29)
	if from != "" {
		if start, err = time.Parse(time.DateOnly, from); err != nil {
			return start, end, switchboard.Errorf(switchboard.EINVALID, "from must be a date, YYYY-MM-DD")
		}
	}
	switch days := int(end.Sub(start)/(24*time.Hour)) + 1; {
	case days < 1:
		return start, end, switchboard.Errorf(switchboard.EINVALID, "from must not be after to")
	case days > MaxDays:
		return start, end, switchboard.Errorf(switchboard.EINVALID, "a report covers at most %d days", MaxDays)
	}
	return start, end, nil
}

// Report computes the figures asked for p's tenant. Supervisors only.
func (s *Service) Report(ctx context.Context, p switchboard.Principal, req Request) (Report, error) {
	if err := mustSupervise(p); err != nil {
		return Report{}, err // before the request is read: no hints to those who may not ask
	}
	if len(req.Team) > 64 || len(req.Operator) > 1024 {
		return Report{}, switchboard.Errorf(switchboard.EINVALID, "team or operator is too long")
	}
	q := Query{Team: req.Team, Operator: req.Operator}
	var err error
	if q.From, q.To, err = s.period(req.From, req.To); err != nil {
		return Report{}, err
	}
	f := filter{tenant: p.Tenant, from: q.From.UnixMilli(), until: q.To.AddDate(0, 0, 1).UnixMilli(),
		team: q.Team, operator: q.Operator}
	db := s.db.WithContext(ctx)
	created, err := perDay(db, f, "created_at", "")
	if err != nil {
		return Report{}, err
	}
	closed, err := perDay(db, f, "closed_at", "status = 10000")
	if err != nil {
		return Report{}, err
	}
	ts, err := durations(db, f)
	if err != nil {
		return Report{}, err
	}
	ratings, err := ratingsBy(db, f)
	if err != nil {
		return Report{}, err
	}
	r := Report{From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly)}
	r.Days = days(q, created, closed, ts)
	var firsts, resolutions []float64
	for _, t := range ts {
		if t.firstResponse != nil {
			firsts = append(firsts, *t.firstResponse)
		}
		if t.resolution != nil {
			resolutions = append(resolutions, *t.resolution)
		}
	}
	r.FirstResponse, r.Resolution = summarise(firsts), summarise(resolutions)
	r.CSAT = csat(ratings)
	r.Operators, r.Teams = groups(ts, ratings)
	return r, nil
}

// filter is a Query as the statements take it.
type filter struct {
	tenant      string
	from, until int64 // [from, until) in Unix milliseconds
	team        string
	operator    string
}

// where narrows q to the filter's tenant, team and operator.
func (f filter) where(q *gorm.DB) *gorm.DB {
	q = q.Where("tenant = ?", f.tenant)
	if f.team != "" {
		q = q.Where("team_id = ?", f.team)
	}
	if f.operator != "" {
		q = q.Where("handler_id = ?", f.operator)
	}
	return q
}

// perDay counts the tickets whose column falls on each day of the
// period (and that match cond): the day's number → count.
func perDay(db *gorm.DB, f filter, column, cond string) (map[int64]int, error) {
	var rows []struct {
		Day int64 `gorm:"column:day"`
		N   int   `gorm:"column:n"`
	}
	q := f.where(db.Table("tickets")).Where(column+" >= ? AND "+column+" < ?", f.from, f.until)
	if cond != "" {
		q = q.Where(cond)
	}
	err := q.Select(column + " / " + strconv.FormatInt(day, 10) + " AS day, COUNT(*) AS n").
		Group(column + " / " + strconv.FormatInt(day, 10)).Scan(&rows).Error
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.Day] = r.N
	}
	return out, err
}

// measured is one ticket created in the period with its durations in
// seconds (nil: not answered, not closed).
type measured struct {
	created       int64
	handler, name string
	team          string
	firstResponse *float64
	resolution    *float64
}

// durations loads the tickets created in the period with the time of
// their first answer: the first message of anyone but the owner (system
// notes are kind SYSNOTIF, not USER).
func durations(db *gorm.DB, f filter) ([]measured, error) {
	var rows []struct {
		CreatedAt   int64  `gorm:"column:created_at"`
		ClosedAt    int64  `gorm:"column:closed_at"`
		Status      int    `gorm:"column:status"`
		HandlerID   string `gorm:"column:handler_id"`
		HandlerName string `gorm:"column:handler_name"`
		Team        string `gorm:"column:team_id"`
		FirstAnswer *int64 `gorm:"column:first_answer"`
	}
	err := f.where(db.Table("tickets AS t")).
		Select(`t.created_at, t.closed_at, t.status, t.handler_id, t.handler_name, t.team_id,
			(SELECT MIN(m.created_at) FROM messages m WHERE m.session_id = t.id AND m.kind = 'USER'
				AND m.sender_id <> t.owner_id) AS first_answer`).
		Where("t.created_at >= ? AND t.created_at < ?", f.from, f.until).
		Order("t.created_at, t.id").Scan(&rows).Error
	out := make([]measured, len(rows))
	for i, r := range rows {
		m := measured{created: r.CreatedAt, handler: r.HandlerID, name: r.HandlerName, team: r.Team}
		if r.FirstAnswer != nil {
			m.firstResponse = seconds(*r.FirstAnswer - r.CreatedAt)
		}
		if r.Status == 10000 && r.ClosedAt > 0 {
			m.resolution = seconds(r.ClosedAt - r.CreatedAt)
		}
		out[i] = m
	}
	return out, err
}

func seconds(ms int64) *float64 {
	v := float64(ms) / 1000
	return &v
}

// rated is the sum and count of the ratings given in the period to one
// (handler, team, score).
type rated struct {
	Handler string `gorm:"column:handler_id"`
	Name    string `gorm:"column:handler_name"`
	Team    string `gorm:"column:team_id"`
	Score   int    `gorm:"column:rating_score"`
	N       int    `gorm:"column:n"`
}

// ratingsBy counts the ratings given in the period by handler, team and
// score; the distribution and every average are sums of these.
func ratingsBy(db *gorm.DB, f filter) ([]rated, error) {
	var out []rated
	err := f.where(db.Table("tickets")).Where("rated_at >= ? AND rated_at < ?", f.from, f.until).
		Select("handler_id, handler_name, team_id, rating_score, COUNT(*) AS n").
		Group("handler_id, handler_name, team_id, rating_score").Scan(&out).Error
	return out, err
}

// days makes the day rows of the period.
func days(q Query, created, closed map[int64]int, ts []measured) []Day {
	firsts, resolutions := map[int64][]float64{}, map[int64][]float64{}
	for _, t := range ts {
		d := t.created / day
		if t.firstResponse != nil {
			firsts[d] = append(firsts[d], *t.firstResponse)
		}
		if t.resolution != nil {
			resolutions[d] = append(resolutions[d], *t.resolution)
		}
	}
	var out []Day
	for at := q.From; !at.After(q.To); at = at.AddDate(0, 0, 1) {
		d := at.UnixMilli() / day
		out = append(out, Day{Date: at.Format(time.DateOnly), Created: created[d], Closed: closed[d],
			FirstResponseMedian: median(firsts[d]), ResolutionMedian: median(resolutions[d])})
	}
	return out
}

func csat(rs []rated) CSAT {
	c := CSAT{Distribution: map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}
	sum := 0
	for _, r := range rs {
		c.Distribution[strconv.Itoa(r.Score)] += r.N
		c.Count += r.N
		sum += r.Score * r.N
	}
	c.Average = mean(sum, c.Count)
	return c
}

// groups makes the per-operator (tickets with a handler) and per-team
// figures, each sorted by its key.
func groups(ts []measured, rs []rated) (operators, teams []Group) {
	type acc struct {
		g                   Group
		firsts, resolutions []float64
		sum, n              int
	}
	byOp, byTeam := map[string]*acc{}, map[string]*acc{}
	get := func(m map[string]*acc, key string, g Group) *acc {
		if m[key] == nil {
			m[key] = &acc{g: g}
		}
		return m[key]
	}
	add := func(a *acc, t measured) {
		a.g.Tickets++
		if t.firstResponse != nil {
			a.firsts = append(a.firsts, *t.firstResponse)
		}
		if t.resolution != nil {
			a.resolutions = append(a.resolutions, *t.resolution)
		}
	}
	for _, t := range ts {
		if t.handler != "" {
			a := get(byOp, t.handler, Group{OperatorID: t.handler})
			a.g.Name = t.name
			add(a, t)
		}
		add(get(byTeam, t.team, Group{Team: t.team}), t)
	}
	for _, r := range rs {
		if r.Handler != "" {
			a := get(byOp, r.Handler, Group{OperatorID: r.Handler, Name: r.Name})
			a.sum, a.n = a.sum+r.Score*r.N, a.n+r.N
		}
		a := get(byTeam, r.Team, Group{Team: r.Team})
		a.sum, a.n = a.sum+r.Score*r.N, a.n+r.N
	}
	finish := func(m map[string]*acc) []Group {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]Group, 0, len(keys))
		for _, k := range keys {
			a := m[k]
			a.g.FirstResponseMedian, a.g.ResolutionMedian = median(a.firsts), median(a.resolutions)
			a.g.CSATAverage = mean(a.sum, a.n)
			out = append(out, a.g)
		}
		return out
	}
	return finish(byOp), finish(byTeam)
}
