package tickets

import (
	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// admit charges one event to the caller's token buckets
// (LivechatOptions.Limiter). Refused, the event is answered RATE_LIMITED
// and nothing else happens; a socket refused too often in a row is cut
// off. Every event counts, updateMessage and addNote (a note is written
// and fanned out as a message is) also as a message.
func (c *conn) admit(name string, reply func(error)) bool {
	if c.l.opts.Limiter == nil {
		return true
	}
	kind := limiter.Event
	if name == "updateMessage" || name == "addNote" {
		kind = limiter.Message
	}
	caller := c.caller()
	who := limiter.Who{Principal: caller.Principal}
	if caller.Principal.Role == switchboard.RoleProgram {
		who.EndUser = caller.UserID
	}
	cutOff, err := c.Admit(who, kind)
	if err == nil {
		return true
	}
	reply(err)
	if cutOff {
		fanout.CutOff(c.s) // once the refusal's ack is written
	}
	return false
}
