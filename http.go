package switchboard

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// BearerToken returns the access token of an Authorization: Bearer header.
func BearerToken(r *http.Request) (string, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return "", Errorf(ETOKENMISSING, "send Authorization: Bearer <access token>")
	}
	return token, nil
}

// Verifier turns an access token into a principal (oauth.Verifier, and
// the verifier that also takes visitor tokens).
type Verifier interface {
	Verify(ctx context.Context, raw string) (Principal, error)
}

// Authenticate verifies the request's bearer token: who calls a REST
// endpoint. What the principal may do there is its handler's to say.
func Authenticate(r *http.Request, v Verifier) (Principal, error) {
	token, err := BearerToken(r)
	if err != nil {
		return Principal{}, err
	}
	return v.Verify(r.Context(), token)
}

// WriteHTTPError answers a REST call with err as {code, message} and the
// status HTTPStatus maps its code to. Internal details are only logged.
func WriteHTTPError(w http.ResponseWriter, err error) error {
	code := ErrorCode(err)
	if code == EINTERNAL {
		slog.Error("request failed", "err", err)
	}
	status := HTTPStatus(code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(map[string]any{"code": code, "message": ErrorMessage(err)})
}

// ReadJSON decodes a request's JSON object body of at most max bytes into
// v (a struct whose optional fields are pointers). A body too large, not
// an object, or with a field of the wrong type is INVALID_REQUEST, saying
// which.
func ReadJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, max)
	var raw json.RawMessage
	err := json.NewDecoder(body).Decode(&raw)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return Errorf(EINVALID, "the body is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return Errorf(EINVALID, "send a JSON object")
	case len(raw) == 0 || raw[0] != '{':
		return Errorf(EINVALID, "the body must be a JSON object")
	}
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, v); errors.As(err, &typeErr) {
		return Errorf(EINVALID, "%s must be a %s", typeErr.Field, typeErr.Type.Kind())
	} else if err != nil {
		return Errorf(EINVALID, "the body is not a valid JSON object")
	}
	return nil
}
