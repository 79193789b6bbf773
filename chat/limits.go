package chat

import (
	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// admit charges one event of a ready socket to its principal's token
// buckets (ChatServerOptions.Limiter), shared with the livechat protocol.
// Refused, it returns the RATE_LIMITED error (answered with the event's
// response, INVALID_REQUEST: the protocol's result codes are the
// source's, which has none for it) and whether the socket is to be cut
// off. A socket not ready yet is not charged: run refuses its event.
func (c *conn) admit(name string) (cutOff bool, err error) {
	if name == "clientReady" || !c.isReady() {
		return false, nil
	}
	kind := limiter.Event
	if name == "sendMsg" || name == "editMsg" {
		kind = limiter.Message
	}
	cutOff, err = c.Admit(limiter.Who{Principal: c.Principal()}, kind)
	if err != nil {
		// The result code cannot say it; the description does, first.
		err = switchboard.Errorf(switchboard.ERATELIMITED, "%s: %s", switchboard.ERATELIMITED, switchboard.ErrorMessage(err))
	}
	return cutOff, err
}

// cutOff disconnects the socket and closes its transport once its last
// answer is written (fanout.CutOff).
func (c *conn) cutOff() { fanout.CutOff(c.s) }

// countConnection holds a connection slot of p for this socket; over the
// limit clientReady fails RATE_LIMITED and the socket is closed.
func (c *conn) countConnection(p switchboard.Principal) error {
	if err := c.HoldSlot(p); err != nil {
		return switchboard.Errorf(switchboard.ERATELIMITED, "%s: %s", switchboard.ERATELIMITED, switchboard.ErrorMessage(err))
	}
	return nil
}
