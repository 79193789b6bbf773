package rtm

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/internal/limiter"
)

// command is a client frame: the command and its arguments. Ids may come
// as strings (the source's examples) or numbers.
type command struct {
	Command    string          `json:"command"`
	AuthToken  string          `json:"auth_token"`
	ChannelID  json.RawMessage `json:"channel_id"`
	MessageID  json.RawMessage `json:"message_id"`
	EmojiValue json.RawMessage `json:"emoji_value"`
}

// commands are the client commands after ws_auth.
var commands = map[string]func(ctx context.Context, c *conn, cmd command) error{
	"ws_ephemeral_typing":      onTyping,
	"ws_read_notification":     onRead,
	"ws_all_read_notification": onAllRead,
	"ws_add_reaction":          func(ctx context.Context, c *conn, cmd command) error { return onReaction(ctx, c, cmd, true) },
	"ws_remove_reaction":       func(ctx context.Context, c *conn, cmd command) error { return onReaction(ctx, c, cmd, false) },
}

func commandNames() []string {
	out := []string{"ws_auth"}
	for name := range commands {
		out = append(out, name)
	}
	return out
}

// commandWait bounds one command's wait for its commit.
const commandWait = 15 * time.Second

// run runs one client frame. A non-zero code closes the socket with
// reason: anything before a good ws_auth, a second ws_auth, an unknown
// command or a malformed frame (the source terminates such a
// connection), and a socket cut off by the limiter. A command the
// services refuse is answered with an error frame and changes nothing.
func (c *conn) run(data []byte) (code int, reason string) {
	var cmd command
	if err := json.Unmarshal(data, &cmd); err != nil {
		return websocket.CloseUnsupportedData, "a frame is a JSON object with a command"
	}
	c.s.metrics.EventIn(cmd.Command)
	ctx, cancel := context.WithTimeout(context.Background(), commandWait)
	defer cancel()
	if !c.Active() {
		if cmd.Command != "ws_auth" || c.userID() != "" {
			return websocket.ClosePolicyViolation, "ws_auth must come first"
		}
		if err := c.authenticate(ctx, cmd.AuthToken); err != nil {
			return websocket.ClosePolicyViolation, switchboard.ErrorCode(err) + ": " + switchboard.ErrorMessage(err)
		}
		return 0, ""
	}
	handle, ok := commands[cmd.Command]
	if !ok {
		return websocket.ClosePolicyViolation, "unknown command " + strconv.Quote(cmd.Command)
	}
	cutOff, err := c.Admit(limiter.Who{Principal: c.Principal()}, limiter.Event)
	if cutOff {
		return websocket.ClosePolicyViolation, switchboard.ERATELIMITED + ": too many commands"
	}
	if err == nil {
		err = handle(ctx, c, cmd)
	}
	if err != nil {
		c.send(newFrame("error", map[string]any{"command": cmd.Command, "code": switchboard.ErrorCode(err),
			"message": switchboard.ErrorMessage(err)}))
	}
	return 0, ""
}

// idOf reads an id argument given as a string or a number.
func idOf(raw json.RawMessage, name string) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" && len(s) <= 256 {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil && n != "" {
		return n.String(), nil
	}
	return "", switchboard.Errorf(switchboard.EINVALID, "%s must be an id (a string or a number)", name)
}

func onTyping(ctx context.Context, c *conn, cmd command) error {
	id, err := idOf(cmd.ChannelID, "channel_id")
	if err != nil {
		return err
	}
	if !c.AllowTyping(id) {
		return nil // the source: throttle, or it may be dropped
	}
	_, evs, err := c.s.svc.UserAction(ctx, c.caller(), id, chat.ActionTyping)
	if err == nil {
		c.s.svc.Publish(evs)
	}
	return err
}

func onRead(ctx context.Context, c *conn, cmd command) error {
	channel, err := idOf(cmd.ChannelID, "channel_id")
	if err != nil {
		return err
	}
	msg, err := idOf(cmd.MessageID, "message_id")
	if err != nil {
		return err
	}
	_, err = c.s.svc.MarkMsgRead(ctx, c.caller(), channel, []string{msg})
	return err
}

func onAllRead(ctx context.Context, c *conn, cmd command) error {
	channel, err := idOf(cmd.ChannelID, "channel_id")
	if err != nil {
		return err
	}
	_, err = c.s.svc.MarkSessionRead(ctx, c.caller(), channel)
	return err
}

func onReaction(ctx context.Context, c *conn, cmd command, add bool) error {
	msg, err := idOf(cmd.MessageID, "message_id")
	if err != nil {
		return err
	}
	emoji, err := idOf(cmd.EmojiValue, "emoji_value")
	if err != nil {
		return err
	}
	_, err = c.s.svc.React(ctx, c.caller(), msg, emoji, add)
	return err
}
