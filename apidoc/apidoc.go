// Package apidoc holds the OpenAPI 3.1 document of the REST API
// (openapi.yaml, the source of truth) and serves it as JSON at
// /api/v1/openapi.json.
package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v4"
)

// YAML is the document as written.
//
//go:embed openapi.yaml
var YAML []byte

// Path is where the document is served, under /api/v1.
const Path = "/openapi.json"

var document = sync.OnceValues(func() ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(YAML, &v); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return json.Marshal(v)
})

// JSON returns the document as JSON.
func JSON() ([]byte, error) { return document() }

// Register serves the document on the /api/v1 group, to anyone.
func Register(g *echo.Group) {
	g.GET(Path, func(c echo.Context) error {
		b, err := JSON()
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
	})
}
