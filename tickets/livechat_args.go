package tickets

import (
	"encoding/base64"
	"math"
	"strings"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/operators"
)

// Decoding of the livechat protocol's positional arguments. JSON numbers
// arrive as float64, objects as map[string]any. Every check answers
// INVALID_REQUEST naming the argument, so a client developer sees what to
// fix.

func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.EINVALID, format, args...)
}

// args is one event's arguments, without the ack.
type args []any

func (a args) at(i int) any {
	if i < len(a) {
		return a[i]
	}
	return nil
}

// id reads a required non-empty string id of at most max bytes.
func (a args) id(i int, name string, max int) (string, error) {
	s, ok := a.at(i).(string)
	switch {
	case !ok:
		return "", invalid("%s must be a string", name)
	case s == "":
		return "", invalid("%s is required", name)
	case len(s) > max:
		return "", invalid("%s is longer than %d bytes", name, max)
	}
	return s, nil
}

// object reads an object argument; absent or null is an empty object when
// optional.
func (a args) object(i int, name string, optional bool) (map[string]any, error) {
	switch v := a.at(i).(type) {
	case map[string]any:
		return v, nil
	case nil:
		if optional {
			return map[string]any{}, nil
		}
		return nil, invalid("%s is required", name)
	}
	return nil, invalid("%s must be an object", name)
}

// integer reads a required whole number.
func (a args) integer(i int, name string) (int, error) {
	return integerValue(a.at(i), name)
}

func integerValue(v any, name string) (int, error) {
	f, ok := v.(float64)
	if !ok {
		if v == nil {
			return 0, invalid("%s is required", name)
		}
		return 0, invalid("%s must be a number", name)
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, invalid("%s must be a whole number", name)
	}
	return int(f), nil
}

// field reads an optional string field of an object: absent or null is "".
func field(obj map[string]any, key string, max int) (string, error) {
	switch v := obj[key].(type) {
	case nil:
		return "", nil
	case string:
		if len(v) > max {
			return "", invalid("%s is longer than %d bytes", key, max)
		}
		return v, nil
	}
	return "", invalid("%s must be a string", key)
}

// teamField reads an optional team id: absent, null or "" is no team.
func teamField(obj map[string]any, key string) (string, error) {
	team, err := field(obj, key, 64)
	if err != nil || team == "" {
		return "", err
	}
	return team, operators.CheckTeamID(team)
}

// optionalField is field that tells absent from empty.
func optionalField(obj map[string]any, key string, max int) (*string, error) {
	if _, ok := obj[key]; !ok || obj[key] == nil {
		return nil, nil
	}
	s, err := field(obj, key, max)
	return &s, err
}

// optionalNumber reads an optional number field.
func optionalNumber(obj map[string]any, key string) (*float64, error) {
	switch v := obj[key].(type) {
	case nil:
		return nil, nil
	case float64:
		return &v, nil
	}
	return nil, invalid("%s must be a number", key)
}

// Limits bounds what one event may carry.
type Limits struct {
	MaxText  int // text message content, bytes (default 64 KiB)
	MaxImage int // image content, decoded bytes (default 1 MiB)
	MaxName  int // names, titles and other short strings (default 1 KiB)
}

// WithDefaults fills unset limits.
func (l Limits) WithDefaults() Limits {
	if l.MaxText <= 0 {
		l.MaxText = 64 << 10
	}
	if l.MaxImage <= 0 {
		l.MaxImage = 1 << 20
	}
	if l.MaxName <= 0 {
		l.MaxName = 1 << 10
	}
	return l
}

// MaxEventBytes is the largest event these limits allow, with room for
// the JSON around it: the transport's buffer must be above it so that an
// oversized message is refused by us with INVALID_REQUEST rather than by
// the transport with a dropped connection.
func (l Limits) MaxEventBytes() int {
	return max(l.MaxText*6, l.MaxImage*4/3) + 512<<10
}

// messageInput validates a livechat message object.
func (l Limits) messageInput(obj map[string]any) (MessageInput, error) {
	in := MessageInput{Type: 1, Encoding: "utf-8"}
	if v, ok := obj["type"]; ok && v != nil {
		t, err := integerValue(v, "type")
		if err != nil {
			return in, err
		}
		in.Type = t
	}
	enc, err := field(obj, "encoding", 32)
	if err != nil {
		return in, err
	}
	if enc != "" {
		in.Encoding = enc
	}
	content, ok := obj["content"].(string)
	if !ok {
		return in, invalid("content must be a string")
	}
	switch in.Type {
	case 1:
		if content == "" {
			return in, invalid("content is empty")
		}
		if len(content) > l.MaxText {
			return in, invalid("content is longer than %d bytes", l.MaxText)
		}
	case 2:
		if err := l.checkImage(content); err != nil {
			return in, err
		}
	default:
		return in, invalid("type must be 1 (text) or 2 (image)")
	}
	in.Content = content
	return in, nil
}

// checkImage accepts base64 (optionally as a data: URL) up to MaxImage
// decoded bytes.
func (l Limits) checkImage(content string) error {
	data := content
	if strings.HasPrefix(data, "data:") {
		_, after, ok := strings.Cut(data, ",")
		if !ok {
			return invalid("content is not a base64 data URL")
		}
		data = after
	}
	if base64.StdEncoding.DecodedLen(len(data)) > l.MaxImage+3 {
		return invalid("image is larger than %d bytes", l.MaxImage)
	}
	decoded, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return invalid("image content is not valid base64")
	}
	if len(decoded) == 0 {
		return invalid("image is empty")
	}
	if len(decoded) > l.MaxImage {
		return invalid("image is larger than %d bytes", l.MaxImage)
	}
	return nil
}

// ticketObject reads the object argument at i and its ticketId: the
// shape of the commands that take one object about a ticket.
func (a args) ticketObject(i int, name string, maxName int) (map[string]any, string, error) {
	obj, err := a.object(i, name, false)
	if err != nil {
		return nil, "", err
	}
	id, err := args{obj["ticketId"]}.id(0, "ticketId", maxName)
	return obj, id, err
}

// ratingInput reads {ticketId, score, comment?} of rateTicket and its
// REST twin (where ticketId comes from the path).
func ratingInput(obj map[string]any, maxName int) (id string, score int, comment string, err error) {
	if id, err = (args{obj["ticketId"]}).id(0, "ticketId", maxName); err != nil {
		return
	}
	if score, err = integerValue(obj["score"], "score"); err != nil {
		return
	}
	comment, err = field(obj, "comment", MaxCommentBytes)
	return
}
