package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// httpError answers what the router itself refuses (an unknown path, a
// method a path does not take, a body it cannot read) in the one error
// shape of every endpoint, {code, message}, with echo's status.
func httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		_ = switchboard.WriteHTTPError(c.Response(), err)
		return
	}
	code := switchboard.EINTERNAL
	switch he.Code {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		code = switchboard.ENOTFOUND
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		code = switchboard.EINVALID
	case http.StatusUnauthorized:
		code = switchboard.EUNAUTHENTICATED
	case http.StatusForbidden:
		code = switchboard.EFORBIDDEN
	case http.StatusTooManyRequests:
		code = switchboard.ERATELIMITED
	}
	message := http.StatusText(he.Code)
	if m, ok := he.Message.(string); ok && m != "" {
		message = m
	}
	_ = c.JSON(he.Code, map[string]any{"code": code, "message": message})
}
