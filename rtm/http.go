package rtm

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard-chat/switchboard"
)

// Path is where the RTM endpoint is served.
const Path = "/rtm"

// HTTP serves rtm.connect: a socket token for the caller's access token.
type HTTP struct {
	tokens   *Tokens
	verifier switchboard.Verifier
}

// NewHTTP returns the handler.
func NewHTTP(tokens *Tokens, verifier switchboard.Verifier) *HTTP {
	return &HTTP{tokens: tokens, verifier: verifier}
}

// Register mounts POST /rtm/connect on the /api/v1 group.
func (h *HTTP) Register(g *echo.Group) {
	g.POST("/rtm/connect", h.connect)
}

// connectAnswer is the source's answer to rtm.connect.
type connectAnswer struct {
	Meta struct {
		OK bool `json:"ok"`
	} `json:"meta"`
	RTM struct {
		WSEndpoint string `json:"ws_endpoint"`
		WSToken    string `json:"ws_token"`
	} `json:"rtm"`
}

// POST /api/v1/rtm/connect (bearer access token): a single-use socket
// token, valid for TokenLifetime, and the endpoint to use it at, on the
// host and scheme the caller reached.
func (h *HTTP) connect(c echo.Context) error {
	p, err := switchboard.Authenticate(c.Request(), h.verifier)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	token, err := h.tokens.Issue(c.Request().Context(), p)
	if err != nil {
		return switchboard.WriteHTTPError(c.Response(), err)
	}
	var out connectAnswer
	out.Meta.OK = true
	scheme := "ws"
	if c.Scheme() == "https" {
		scheme = "wss"
	}
	out.RTM.WSEndpoint = scheme + "://" + c.Request().Host + Path
	out.RTM.WSToken = token
	return c.JSON(http.StatusOK, out)
}
