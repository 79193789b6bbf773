package chat

import (
	"encoding/json"
	"math"

	"github.com/switchboard-chat/switchboard"
)

// Decoding of the chat protocol's event bodies: {headers, payload} with
// payload an object of the event's payload class. JSON numbers arrive as
// float64, objects as map[string]any, arrays as []any. Every check answers
// INVALID_REQUEST naming the field, so a client developer sees what to fix.

func invalid(format string, args ...any) error {
	return switchboard.Errorf(switchboard.EINVALID, format, args...)
}

// Limits bounds what one event may carry.
type Limits struct {
	MaxText     int // message body, bytes (default 64 KiB)
	MaxName     int // ids, usernames, titles, status messages (default 1 KiB)
	MaxDesc     int // session descriptions (default 4 KiB)
	MaxMetadata int // a message's chatMetadata as JSON (default 16 KiB)
	MaxItems    int // entries of a list (default 1000)
	MaxMembers  int // members of a session one event names (default 256)
}

// WithDefaults fills unset limits.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxText, 64<<10)
	def(&l.MaxName, 1<<10)
	def(&l.MaxDesc, 4<<10)
	def(&l.MaxMetadata, 16<<10)
	def(&l.MaxItems, 1000)
	def(&l.MaxMembers, 256)
	return l
}

// MaxEventBytes is the largest event these limits allow, with room for
// the JSON around it; the transport's buffer is set above it so that an
// oversized event is refused with INVALID_REQUEST rather than a dropped
// connection.
func (l Limits) MaxEventBytes() int {
	return l.MaxText*6 + l.MaxMetadata*6 + 512<<10
}

// body is one event's payload object.
type body map[string]any

// payloadOf reads {headers, payload} and returns the payload object.
func payloadOf(a []any) (body, error) {
	if len(a) == 0 {
		return nil, invalid("send {headers, payload}")
	}
	env, ok := a[0].(map[string]any)
	if !ok {
		return nil, invalid("the event body must be an object {headers, payload}")
	}
	switch p := env["payload"].(type) {
	case map[string]any:
		return p, nil
	case nil:
		return nil, invalid("payload is required")
	}
	return nil, invalid("payload must be an object")
}

// str reads a string field; absent or null is "" (or an error when
// required).
func (b body) str(key string, required bool, max int) (string, error) {
	switch v := b[key].(type) {
	case nil:
		if required {
			return "", invalid("%s is required", key)
		}
		return "", nil
	case string:
		if required && v == "" {
			return "", invalid("%s is required", key)
		}
		if len(v) > max {
			return "", invalid("%s is longer than %d bytes", key, max)
		}
		return v, nil
	}
	return "", invalid("%s must be a string", key)
}

// optStr reads an optional string field, telling absent (nil) from "".
func (b body) optStr(key string, max int) (*string, error) {
	if b[key] == nil {
		return nil, nil
	}
	s, err := b.str(key, false, max)
	return &s, err
}

// list reads an array of strings (each non-empty, at most maxLen bytes);
// absent or null is nil (or an error when required, as is an empty one).
func (b body) list(key string, required bool, maxItems, maxLen int) ([]string, error) {
	switch v := b[key].(type) {
	case nil:
		if required {
			return nil, invalid("%s is required", key)
		}
		return nil, nil
	case []any:
		if required && len(v) == 0 {
			return nil, invalid("%s must not be empty", key)
		}
		if len(v) > maxItems {
			return nil, invalid("%s has more than %d entries", key, maxItems)
		}
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			switch {
			case !ok:
				return nil, invalid("%s must be a list of strings", key)
			case s == "":
				return nil, invalid("%s has an empty entry", key)
			case len(s) > maxLen:
				return nil, invalid("an entry of %s is longer than %d bytes", key, maxLen)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, invalid("%s must be a list", key)
}

// integer reads an optional whole number in [0, max]; absent is def.
func (b body) integer(key string, def, max int) (int, error) {
	switch v := b[key].(type) {
	case nil:
		return def, nil
	case float64:
		if v != math.Trunc(v) || v < 0 {
			return 0, invalid("%s must be a whole number, 0 or more", key)
		}
		if v > float64(max) {
			return 0, invalid("%s must be at most %d", key, max)
		}
		return int(v), nil
	}
	return 0, invalid("%s must be a number", key)
}

// boolean reads a required boolean.
func (b body) boolean(key string) (bool, error) {
	v, ok := b[key].(bool)
	if !ok {
		if b[key] == nil {
			return false, invalid("%s is required", key)
		}
		return false, invalid("%s must be true or false", key)
	}
	return v, nil
}

// object reads an optional object field.
func (b body) object(key string) (body, error) {
	switch v := b[key].(type) {
	case nil:
		return body{}, nil
	case map[string]any:
		return v, nil
	}
	return nil, invalid("%s must be an object", key)
}

// enum reads an optional string field that must be one of values.
func (b body) enum(key string, required bool, values ...string) (string, error) {
	s, err := b.str(key, required, 64)
	if err != nil || s == "" {
		return s, err
	}
	for _, v := range values {
		if s == v {
			return s, nil
		}
	}
	return "", invalid("%s must be one of %v", key, values)
}

// enums reads an optional list whose entries must be among values.
func (b body) enums(key string, values ...string) ([]string, error) {
	l, err := b.list(key, false, len(values)*4, 64)
	if err != nil {
		return nil, err
	}
	for _, s := range l {
		ok := false
		for _, v := range values {
			ok = ok || s == v
		}
		if !ok {
			return nil, invalid("%s entries must be among %v", key, values)
		}
	}
	return l, nil
}

// metadata reads an optional object and returns it as JSON.
func (b body) metadata(key string, max int) (json.RawMessage, error) {
	switch b[key].(type) {
	case nil:
		return nil, nil
	case map[string]any:
	default:
		return nil, invalid("%s must be an object", key)
	}
	raw, err := json.Marshal(b[key])
	if err != nil {
		return nil, invalid("%s cannot be stored: %v", key, err)
	}
	if len(raw) > max {
		return nil, invalid("%s is larger than %d bytes", key, max)
	}
	return raw, nil
}

// time reads an optional ISO 8601 time field as Unix ms (0 = absent).
func (b body) time(key string) (int64, error) {
	s, err := b.str(key, false, 64)
	if err != nil || s == "" {
		return 0, err
	}
	t, err := ParseTime(s)
	if err != nil {
		return 0, invalid("%s must be an ISO 8601 time", key)
	}
	return t.UnixMilli(), nil
}
