package limiter

import (
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard"
)

// Strikes counts one socket's refusals within the current window. The
// zero value is ready.
type Strikes struct {
	mu    sync.Mutex
	start time.Time
	n     int
}

// add counts a refusal at now and reports whether the socket has now been
// refused max times within window.
func (s *Strikes) add(now time.Time, window time.Duration, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.start) >= window {
		s.start, s.n = now, 0
	}
	s.n++
	return s.n >= max
}

// Admit takes the tokens an event of kind costs from w's buckets. Over
// the limit it returns a RATE_LIMITED error, publishes
// userChatRateLimited (at most once per principal per AbuseWindow, so a
// flood does not flood the event stream) and counts a strike against the
// socket. cutOff says the socket has been refused AbuseRefusals times
// within AbuseWindow: the caller disconnects it (userDisconnected is
// published here).
func (l *Limiter) Admit(w Who, kind Kind, s *Strikes) (cutOff bool, err error) {
	refused, report := l.allow(w, kind)
	if refused == "" {
		return false, nil
	}
	o := l.opts
	rate, burst := o.EventRate, o.EventBurst
	if refused == "messages" {
		rate, burst = o.MessageRate, o.MessageBurst
	}
	err = switchboard.Errorf(switchboard.ERATELIMITED,
		"too many %s: at most %g per second (%d at once); slow down", refused, rate, burst)
	p := w.Principal
	if report {
		l.opts.Logger.Warn("rate limited", "user", p.ID, "role", p.Role, "tenant", p.Tenant, "endUser", w.EndUser, "bucket", refused)
		l.publish(EventRateLimited, w, "too many "+refused, false)
	}
	if s != nil && s.add(l.now(), o.AbuseWindow, o.AbuseRefusals) {
		l.opts.Logger.Warn("socket cut off for sustained abuse", "user", p.ID, "role", p.Role, "tenant", p.Tenant,
			"refusals", o.AbuseRefusals, "within", o.AbuseWindow)
		l.publish(EventDisconnected, w, "rate limit exceeded repeatedly", true)
		l.markCutOff(w)
		return true, err
	}
	return false, err
}

// Stream events (spec/integrations.md, "Rate limiting").
const (
	EventRateLimited  = "userChatRateLimited"
	EventDisconnected = "userDisconnected"
)

func (l *Limiter) publish(name string, w Who, reason string, forced bool) {
	if l.opts.Publisher == nil {
		return
	}
	user := w.Principal.ID
	if w.EndUser != "" {
		user = w.EndUser
	}
	l.opts.Publisher.Publish([]switchboard.Event{switchboard.UserNoticeEvent(name, switchboard.UserNotice{
		Tenant: w.Principal.Tenant, UserID: user, ProgramID: w.Principal.ProgramID,
		Reason: reason, Code: switchboard.ERATELIMITED, Forced: forced})})
}
