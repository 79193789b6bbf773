package oauth

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// devLogin is the login page of the development issuer: one button per
// demo account, no passwords. The dashboard's sign-in lands here too.
type devLogin struct {
	storage  *devStorage
	issuer   string
	callback func(ctx context.Context, authRequestID string) string
	log      *slog.Logger
}

// html/template escapes every value put in the page.
var devLoginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard development sign-in</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: .6rem .8rem; border-radius: 4px; }
button { display: block; width: 100%; margin: .4rem 0; padding: .7rem; font-size: 1rem; text-align: left; cursor: pointer; }
small { color: #666; }
</style>
</head>
<body>
<h1>Sign in</h1>
<p class="warning">Development issuer: demo accounts, no passwords. Never use it in production.</p>
<p>Signing in to <strong>{{.ClientID}}</strong> as:</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="authRequestID" value="{{.AuthRequestID}}">
{{range .Accounts}}<button type="submit" name="account" value="{{.ID}}">{{.Name}} <small>{{.ID}}{{if .Operator}} · operator{{end}}{{if .Admin}}, admin{{end}}{{if .Supervisor}}, supervisor{{end}}</small></button>
{{end}}</form>
</body>
</html>
`))

func (l *devLogin) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	req, err := l.storage.AuthRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, "This sign-in is unknown or has expired; start it again from the application.", http.StatusNotFound)
		return
	}
	setPageHeaders(w)
	err = devLoginPage.Execute(w, map[string]any{
		"ClientID":      req.GetClientID(),
		"Action":        l.issuer + "/login",
		"AuthRequestID": id,
		"Accounts":      DevAccounts,
	})
	if err != nil {
		l.log.Warn("oauth: rendering the development login page", "err", err)
	}
}

func (l *devLogin) submit(w http.ResponseWriter, r *http.Request) {
	// The click that mints an operator's token checks the peer itself, in
	// case the page is ever mounted without DevIssuer.Handler's guard.
	if !loopbackPeer(r) {
		l.log.Warn("oauth: development sign-in refused a non-loopback client", "remote", r.RemoteAddr)
		http.Error(w, "The development issuer only answers clients on this machine.", http.StatusForbidden)
		return
	}
	id, account := r.PostFormValue("authRequestID"), r.PostFormValue("account")
	if _, ok := devAccount(account); !ok {
		http.Error(w, "Unknown demo account.", http.StatusBadRequest)
		return
	}
	if err := l.storage.completeLogin(id, account); err != nil {
		http.Error(w, "This sign-in is unknown, expired or already complete; start it again from the application.", http.StatusBadRequest)
		return
	}
	l.log.Info("oauth: development sign-in", "account", account)
	// op's callback turns the completed request into the code redirect.
	http.Redirect(w, r, l.callback(op.ContextWithIssuer(r.Context(), l.issuer), id), http.StatusSeeOther)
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// A one-click sign-in must not be clickable through someone else's frame.
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
}
