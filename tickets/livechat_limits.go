package tickets

import (
	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// admit charges one event to the caller's token buckets
// (LivechatOptions.Limiter). Refused, the event is answered RATE_LIMITED
// and nothing else happens; a socket refused too often in a row is cut
// off. Every event counts, updateMessage also as a message.
func (c *conn) admit(name string, reply func(error)) bool {
	lim := c.l.opts.Limiter
	if lim == nil {
		return true
	}
	kind := limiter.Event
	if name == "updateMessage" {
		kind = limiter.Message
	}
	caller := c.caller()
	who := limiter.Who{Principal: caller.Principal}
	if caller.Principal.Role == switchboard.RoleProgram {
		who.EndUser = caller.UserID
	}
	cutOff, err := lim.Admit(who, kind, &c.strikes)
	if err == nil {
		return true
	}
	reply(err)
	if cutOff {
		fanout.CutOff(c.s) // once the refusal's ack is written
	}
	return false
}

// countConnection holds a connection slot of p, once per socket; over
// the limit the socket is refused RATE_LIMITED.
func (c *conn) countConnection(p switchboard.Principal) error {
	lim := c.l.opts.Limiter
	if lim == nil {
		return nil
	}
	c.mu.Lock()
	held := c.release != nil
	c.mu.Unlock()
	if held {
		return nil
	}
	release, err := lim.ConnectPrincipal(p)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed || c.release != nil {
		c.mu.Unlock()
		release()
		return nil
	}
	c.release = release
	c.mu.Unlock()
	return nil
}
