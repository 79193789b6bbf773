package visitors

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// Admitter limits the visitors made per client address
// (limiter.Limiter.AdmitAddress).
type Admitter interface {
	AdmitAddress(ip string) error
}

// HTTP serves POST /api/v1/visitors and the visitor key set. With a nil
// Service (oidc mode) both answer 404, saying why.
type HTTP struct {
	svc   *Service
	admit Admitter
}

// NewHTTP returns the handlers; svc is nil when visitors are off.
func NewHTTP(svc *Service, admit Admitter) *HTTP { return &HTTP{svc: svc, admit: admit} }

// JWKSPath is where the visitor key set is served.
const JWKSPath = "/visitors/jwks"

// Register mounts the routes on g (the /api/v1 group).
func (h *HTTP) Register(g *echo.Group) {
	g.POST("/visitors", h.token)
	g.GET(JWKSPath, h.jwks)
}

// maxRequestBytes bounds a request body: an identity and some JSON.
const maxRequestBytes = 8 << 10

// tokenRequest is POST /api/v1/visitors's body: empty for a new anonymous
// visitor, refresh_token to renew, identity for a site's user. Names are
// an OAuth token request's and response's (spec: integrations.md).
type tokenRequest struct {
	RefreshToken string `json:"refresh_token"`
	Identity     string `json:"identity"`
}

// POST /api/v1/visitors → {access_token, token_type, expires_in, refresh_token, visitor_id}
func (h *HTTP) token(c echo.Context) error {
	w := c.Response()
	if h.svc == nil {
		return switchboard.WriteHTTPError(w, off())
	}
	var req tokenRequest
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxRequestBytes+1))
	if err != nil {
		return switchboard.WriteHTTPError(w, switchboard.Errorf(switchboard.EINVALID, "reading the request: %v", err))
	}
	if len(body) > maxRequestBytes {
		return switchboard.WriteHTTPError(w, switchboard.Errorf(switchboard.EINVALID, "the request is larger than %d bytes", maxRequestBytes))
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return switchboard.WriteHTTPError(w, switchboard.Errorf(switchboard.EINVALID, "the body must be a JSON object: %v", err))
		}
	}
	if req.RefreshToken != "" && req.Identity != "" {
		return switchboard.WriteHTTPError(w, switchboard.Errorf(switchboard.EINVALID, "send refresh_token or identity, not both"))
	}
	ctx := c.Request().Context()
	var g Grant
	if req.RefreshToken != "" {
		g, err = h.svc.Renew(ctx, req.RefreshToken)
	} else if err = h.admit.AdmitAddress(c.RealIP()); err == nil {
		// Only a new visitor is limited per address: renewing costs what
		// a token lookup does, and many visitors share an office's address.
		if req.Identity != "" {
			g, err = h.svc.Identified(ctx, req.Identity)
		} else {
			g, err = h.svc.Anonymous(ctx)
		}
	}
	if err != nil {
		if switchboard.ErrorCode(err) == switchboard.ERATELIMITED {
			w.Header().Set("Retry-After", "10")
		}
		return switchboard.WriteHTTPError(w, err)
	}
	// A credential: never to be kept by a cache on the way.
	w.Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, g)
}

// GET /api/v1/visitors/jwks: the public keys visitor tokens are signed
// with (the signing key and the retired ones still in use).
func (h *HTTP) jwks(c echo.Context) error {
	if h.svc == nil {
		return switchboard.WriteHTTPError(c.Response(), off())
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/jwk-set+json", h.svc.JWKS(c.Request().Context()))
}

func off() error {
	return switchboard.Errorf(switchboard.ENOTFOUND,
		"visitor tokens are off on this server (SWITCHBOARD_VISITORS=oidc): sign in with the OpenID provider")
}
