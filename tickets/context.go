package tickets

import (
	"encoding/json"
	"unicode/utf8"
)

// VisitorContext is what the widget tells of the visitor when a ticket is
// opened: the page it was on, the referrer, user agent, locale and time
// zone, and the attributes the site set (data-* of the embed,
// Switchboard.identify). It is the client's word, shown to operators as
// text; nothing is decided by it.
type VisitorContext map[string]string

// Bounds of a context: a page URL fits, a document does not.
const (
	maxContextKeys       = 32
	maxContextKeyBytes   = 64
	maxContextValueBytes = 2048
)

// visitorContext reads the optional visitorContext of a ticket object.
func visitorContext(obj map[string]any) (VisitorContext, error) {
	raw, ok := obj["visitorContext"]
	if !ok || raw == nil {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, invalid("visitorContext must be an object of strings")
	}
	if len(m) > maxContextKeys {
		return nil, invalid("visitorContext has more than %d entries", maxContextKeys)
	}
	out := make(VisitorContext, len(m))
	for k, v := range m {
		s, ok := v.(string)
		switch {
		case k == "" || len(k) > maxContextKeyBytes || !utf8.ValidString(k):
			return nil, invalid("visitorContext keys are 1 to %d bytes of UTF-8", maxContextKeyBytes)
		case !ok:
			return nil, invalid("visitorContext.%s must be a string", k)
		case len(s) > maxContextValueBytes || !utf8.ValidString(s):
			return nil, invalid("visitorContext.%s is longer than %d bytes or not UTF-8", k, maxContextValueBytes)
		}
		out[k] = s
	}
	return out, nil
}

// encode is the stored form: JSON, or "" for none.
func (v VisitorContext) encode() string {
	if len(v) == 0 {
		return ""
	}
	b, _ := json.Marshal(v) // a map of strings always marshals
	return string(b)
}

// decodeContext reads the stored form; a row without one has none.
func decodeContext(s string) VisitorContext {
	if s == "" {
		return nil
	}
	var v VisitorContext
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}
