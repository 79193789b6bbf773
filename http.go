package switchboard

import (
	"context"
	"encoding/json"
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
