package switchboard

import (
	"errors"
	"fmt"
)

// Error codes, shared by every transport. Each transport maps them in one
// place (the livechat ack object, the chat protocol's resultCode, HTTP).
const (
	EUNAUTHENTICATED   = "UNAUTHENTICATED"
	EFORBIDDEN         = "FORBIDDEN"
	EINVALID           = "INVALID_REQUEST"
	ENOTFOUND          = "NOT_FOUND"
	ECONFLICT          = "CONFLICT"
	EINVALIDTRANSITION = "INVALID_TRANSITION"
	ETICKETCLOSED      = "TICKET_CLOSED"
	ERATELIMITED       = "RATE_LIMITED"
	EINTERNAL          = "INTERNAL"
	ETOKENMISSING      = "TOKEN_MISSING"
	ETOKENINVALID      = "TOKEN_INVALID"
	ETOKENEXPIRED      = "TOKEN_EXPIRED"
)

// Error is an application error: a machine code and a message safe to show
// to the client. Anything else that reaches a transport is INTERNAL, and its
// details are only logged.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

// HTTPStatus maps an error code to the HTTP status REST answers with.
// A ticket the caller may not see is 404, like one that does not exist.
func HTTPStatus(code string) int {
	switch code {
	case "":
		return 200
	case EUNAUTHENTICATED, ETOKENMISSING, ETOKENINVALID, ETOKENEXPIRED:
		return 401
	case EFORBIDDEN:
		return 403
	case EINVALID:
		return 400
	case ENOTFOUND:
		return 404
	case ECONFLICT, EINVALIDTRANSITION, ETICKETCLOSED:
		return 409
	case ERATELIMITED:
		return 429
	default:
		return 500
	}
}
