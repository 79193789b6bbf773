package switchboard

import (
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
