package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DevToken obtains an access token from the running development issuer at
// issuer, the way a real client would: for a demo person (operator-N,
// user-N) the authorization code flow with PKCE, clicking the account on
// the login page; for a demo program (program-42, program-7) the client
// credentials grant with the secret kept in dataDir. The issuer mints the
// token; nothing here signs anything.
func DevToken(ctx context.Context, issuer, as, dataDir string) (string, error) {
	tok, err := devTokens(ctx, issuer, as, dataDir)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// devTokens is DevToken with the whole token response (the tests also look
// at the ID token).
func devTokens(ctx context.Context, issuer, as, dataDir string) (*oauth2.Token, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	ctx = oidc.ClientContext(ctx, client)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("is the server running with the development issuer at %s? %w", issuer, err)
	}
	endpoint := provider.Endpoint()

	if _, ok := devAccount(as); ok {
		conf := oauth2.Config{
			ClientID:    DevCLIClientID,
			Endpoint:    endpoint,
			RedirectURL: devCLIRedirectURI,
			Scopes:      []string{"openid", "profile"},
		}
		return devSignIn(ctx, client, conf, as)
	}
	for _, id := range DevPrograms {
		if id != as {
			continue
		}
		secrets, err := readProgramSecrets(dataDir)
		if err != nil {
			return nil, fmt.Errorf("reading the secret of %s (is %s the server's data directory?): %w", as, dataDir, err)
		}
		cc := clientcredentials.Config{
			ClientID:     as,
			ClientSecret: secrets[as],
			TokenURL:     endpoint.TokenURL,
			AuthStyle:    oauth2.AuthStyleInHeader,
		}
		tok, err := cc.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("client credentials grant for %s: %w", as, err)
		}
		return tok, nil
	}
	names := make([]string, 0, len(DevAccounts)+len(DevPrograms))
	for _, a := range DevAccounts {
		names = append(names, a.ID)
	}
	names = append(names, DevPrograms...)
	return nil, fmt.Errorf("%q is not a demo account or program of the development issuer (try one of %s)", as, strings.Join(names, ", "))
}

// devSignIn runs the authorization code flow with PKCE as the public
// client of conf, following redirects by hand so that it can stop at the
// redirect URI (nothing need listen there) and submit the login page's form
// on the way.
func devSignIn(ctx context.Context, client *http.Client, conf oauth2.Config, account string) (*oauth2.Token, error) {
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client has no secret to send
	verifier := oauth2.GenerateVerifier()
	state := randomState()

	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil)
	if err != nil {
		return nil, err
	}
	submitted := false
	for hop := 0; ; hop++ {
		if hop == 10 {
			return nil, errors.New("sign-in: too many redirects")
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			return nil, fmt.Errorf("sign-in: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sign-in: %w", err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("sign-in: %s without a location", resp.Status)
			}
			if strings.HasPrefix(next.String(), conf.RedirectURL) {
				code, err := codeFromRedirect(next, state)
				if err != nil {
					return nil, err
				}
				tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				if err != nil {
					return nil, fmt.Errorf("sign-in: exchanging the code: %w", err)
				}
				return tok, nil
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil); err != nil {
				return nil, err
			}
		case resp.StatusCode == http.StatusOK && !submitted:
			action, form, err := loginForm(body, account)
			if err != nil {
				return nil, fmt.Errorf("sign-in: %w", err)
			}
			target, err := resp.Request.URL.Parse(action)
			if err != nil {
				return nil, fmt.Errorf("sign-in: login form action: %w", err)
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode())); err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			submitted = true
		default:
			return nil, fmt.Errorf("sign-in: %s %s: %s", req.Method, req.URL.Redacted(), strings.TrimSpace(string(body)))
		}
	}
}

func codeFromRedirect(u *url.URL, state string) (string, error) {
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("sign-in refused: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return "", errors.New("sign-in: the redirect carries another state")
	}
	if q.Get("code") == "" {
		return "", errors.New("sign-in: the redirect carries no code")
	}
	return q.Get("code"), nil
}

// loginForm reads the login page as a browser would: the form's action
// and hidden fields, plus the button of the account to click.
func loginForm(page []byte, account string) (action string, form url.Values, err error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return "", nil, err
	}
	form = url.Values{}
	found, clicked := false, false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := func(name string) string {
				for _, a := range n.Attr {
					if a.Key == name {
						return a.Val
					}
				}
				return ""
			}
			switch n.Data {
			case "form":
				if !found {
					action, found = attr("action"), true
				}
			case "input":
				if attr("type") == "hidden" {
					form.Set(attr("name"), attr("value"))
				}
			case "button":
				if attr("value") == account && attr("name") != "" {
					form.Set(attr("name"), account)
					clicked = true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	switch {
	case !found:
		return "", nil, errors.New("the login page has no form")
	case !clicked:
		return "", nil, fmt.Errorf("the login page offers no account %q", account)
	}
	return action, form, nil
}

func randomState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
