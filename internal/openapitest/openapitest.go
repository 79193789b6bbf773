// Package openapitest checks REST answers against the OpenAPI document
// (apidoc): a test server wrapped by Handler fails its test for any
// /api/v1 answer the document does not describe, so a handler and the
// document cannot drift apart unnoticed.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/switchboard-chat/switchboard/apidoc"
)

// Prefix is where the documented API is mounted.
const Prefix = "/api/v1"

var load = sync.OnceValues(func() (*openapi3.T, error) {
	// The JWK set is JSON under its own media type.
	openapi3filter.RegisterBodyDecoder("application/jwk-set+json", openapi3filter.JSONBodyDecoder)
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(apidoc.YAML)
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background())
})

// Document loads and validates the document.
func Document(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := load()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// Find returns the documented path template matching an /api/v1 path
// (escaped, as on the wire) and its parameters; a literal segment wins
// over a parameter. ok is false when none does.
func Find(doc *openapi3.T, escapedPath string) (template string, params map[string]string, ok bool) {
	rest, found := strings.CutPrefix(escapedPath, Prefix)
	if !found {
		return "", nil, false
	}
	// A trailing slash is another path, as it is to the router.
	segs := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	best := -1
	for _, tmpl := range doc.Paths.InMatchingOrder() {
		tsegs := strings.Split(strings.TrimPrefix(tmpl, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		literal, ps := 0, map[string]string{}
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") {
				v, err := url.PathUnescape(segs[i])
				if err != nil || v == "" {
					ps = nil
					break
				}
				ps[ts[1:len(ts)-1]] = v
				continue
			}
			if ts != segs[i] {
				ps = nil
				break
			}
			literal++
		}
		if ps != nil && literal > best {
			best, template, params = literal, tmpl, ps
		}
	}
	return template, params, best >= 0
}

// Check validates one answer to req against the document: its path and
// method must be documented and its status, headers and body described.
func Check(doc *openapi3.T, req *http.Request, status int, header http.Header, body []byte) error {
	tmpl, params, ok := Find(doc, req.URL.EscapedPath())
	if !ok {
		return &undocumented{req.Method + " " + req.URL.Path}
	}
	item := doc.Paths.Value(tmpl)
	op := item.GetOperation(req.Method)
	if op == nil {
		return &undocumented{req.Method + " " + tmpl}
	}
	route := &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: req.Method, Operation: op}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

type undocumented struct{ what string }

func (e *undocumented) Error() string { return e.what + " is not in openapi.yaml" }

// Handler serves next and fails t for any /api/v1 answer that does not
// validate against the document. A refusal (4xx) of a request the
// document does not describe (a probe of another path or method, an empty
// path segment) is let through: the route coverage test is what keeps
// every served route described. Under a fuzz target (t a *testing.F, which may not fail from
// inside it) an answer that does not validate is replaced by a 500 that
// says why, which the target reports as a failure.
func Handler(t testing.TB, next http.Handler) http.Handler {
	doc := Document(t)
	_, fuzzing := t.(*testing.F)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, Prefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		err := Check(doc, r.Clone(context.Background()), rec.Code, rec.Header(), body)
		if err != nil && !(undescribed(doc, r) && rec.Code >= 400) {
			msg := fmt.Sprintf("%s %s → %d %s\ndoes not match openapi.yaml: %v", r.Method, r.URL, rec.Code, truncate(body), err)
			if fuzzing {
				http.Error(w, msg, http.StatusInternalServerError)
				return
			}
			t.Errorf("%s", msg)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, bytes.NewReader(body))
	})
}

// undescribed reports whether the document has no operation for r.
func undescribed(doc *openapi3.T, r *http.Request) bool {
	tmpl, _, ok := Find(doc, r.URL.EscapedPath())
	return !ok || doc.Paths.Value(tmpl).GetOperation(r.Method) == nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
