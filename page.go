package switchboard

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// Every REST list is a page: at most MaxPageLimit items, DefaultPageLimit
// unless the client asks for fewer or more, so that no request makes the
// server hold or send a whole history.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 500
)

// PageLimit reads a list's limit parameter: "" is DefaultPageLimit, a
// number above MaxPageLimit is MaxPageLimit (a client asking for "all"
// gets pages, not an error), anything but a positive integer is
// INVALID_REQUEST.
func PageLimit(s string) (int, error) {
	if s == "" {
		return DefaultPageLimit, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	tooLarge := errors.Is(err, strconv.ErrRange) && n > 0
	if (err != nil && !tooLarge) || n < 1 {
		return 0, Errorf(EINVALID, "limit must be a positive integer (pages hold at most %d items)", MaxPageLimit)
	}
	return int(min(n, MaxPageLimit)), nil
}

// ClampPageLimit bounds a limit that did not come through PageLimit: 0 or
// less is DefaultPageLimit, more than MaxPageLimit is MaxPageLimit.
// Services apply it themselves rather than trust every transport to.
func ClampPageLimit(n int) int {
	if n <= 0 {
		return DefaultPageLimit
	}
	return min(n, MaxPageLimit)
}

// EncodeCursor makes a list's position (the last item's sort key) an
// opaque cursor: clients pass it back, they do not read it.
func EncodeCursor(position any) string {
	b, err := json.Marshal(position)
	if err != nil {
		panic(err) // a position is a struct of strings and numbers
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor EncodeCursor made into position; anything
// else is INVALID_REQUEST.
func DecodeCursor(cursor string, position any) error {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		err = json.Unmarshal(b, position)
	}
	if err != nil {
		return Errorf(EINVALID, "cursor: not a cursor this server gave; start again without one")
	}
	return nil
}

// NextPage is the path and query of the page after r's: r's own with the
// given parameters replaced (e.g. since or cursor). It is what a list
// sends as Link: <...>; rel="next".
func NextPage(r *http.Request, set url.Values) string {
	q := r.URL.Query()
	for k, v := range set {
		q[k] = v
	}
	return r.URL.EscapedPath() + "?" + q.Encode()
}

// WriteJSONList answers with items as a JSON array, encoding one item at a
// time onto the response rather than building the whole body in memory.
// next, when not "", is the next page's URL (see NextPage), sent as a
// Link header with rel="next"; its absence says this is the last page.
func WriteJSONList[T any](w http.ResponseWriter, items []T, next string, wire func(T) any) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if next != "" {
		h.Set("Link", "<"+next+`>; rel="next"`)
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte{'['}); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for i, it := range items {
		if i > 0 {
			if _, err := w.Write([]byte{','}); err != nil {
				return err
			}
		}
		if err := enc.Encode(wire(it)); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte{']', '\n'})
	return err
}
