package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DefaultKeyRefreshInterval is the least time between two fetches of the
// provider's keys. go-oidc's RemoteKeySet refetches on every token with an
// unknown kid, so anyone could make the server hammer the provider by
// sending made-up kids; here such tokens fail fast between fetches.
const DefaultKeyRefreshInterval = 10 * time.Second

// maxJWKSBytes bounds what a misbehaving provider can make us read.
const maxJWKSBytes = 1 << 20

// allowedAlgs are the only signature algorithms spec/oauth.md accepts: never
// none or HS*, whose "key" a client could choose.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

var errKeyRefreshLimited = errors.New("unknown signing key (kid); the provider's keys were fetched too recently to look again")

// keySet implements go-oidc's KeySet over the provider's jwks_uri, with a
// cache and rate-limited refreshes.
type keySet struct {
	url      string
	client   *http.Client
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger

	// fetchMu lets one caller fetch at a time; the others wait and then use
	// what it fetched (generation tells them) instead of fetching again.
	fetchMu   sync.Mutex
	lastFetch time.Time // of the last attempt, successful or not; under fetchMu

	mu         sync.RWMutex
	keys       []jose.JSONWebKey
	generation uint64
}

func newKeySet(url string, client *http.Client, interval time.Duration, now func() time.Time, log *slog.Logger) *keySet {
	return &keySet{url: url, client: client, interval: interval, now: now, log: log}
}

// parsedJWS is a token the Verifier has parsed already, handed to
// VerifySignature beside the raw token that go-oidc passes it: parsing
// costs about a tenth of a verification (its JSON and base64), and
// go-oidc's own way of handing it over is for its own key set only.
type parsedJWS struct {
	raw string
	jws *jose.JSONWebSignature
}

type parsedJWSKey struct{}

func withParsed(ctx context.Context, raw string, jws *jose.JSONWebSignature) context.Context {
	return context.WithValue(ctx, parsedJWSKey{}, parsedJWS{raw: raw, jws: jws})
}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := parsedFor(ctx, raw)
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID

	keys, generation := k.cached()
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	keys, err = k.refresh(ctx, generation)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	return nil, errors.New("signature does not match any of the provider's keys")
}

// parsedFor returns the JWS parsed from raw: the one in ctx if it was
// parsed from this very token, else raw parsed now.
func parsedFor(ctx context.Context, raw string) (*jose.JSONWebSignature, error) {
	if p, ok := ctx.Value(parsedJWSKey{}).(parsedJWS); ok && p.raw == raw {
		return p.jws, nil
	}
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	return jws, nil
}

func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		// Without a kid every key is a candidate, as go-oidc does.
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func (k *keySet) cached() ([]jose.JSONWebKey, uint64) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys, k.generation
}

// refresh fetches the keys unless someone did since the caller looked at
// generation (then their keys are returned) or the last attempt is more
// recent than the interval.
func (k *keySet) refresh(ctx context.Context, seen uint64) ([]jose.JSONWebKey, error) {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	if keys, generation := k.cached(); generation != seen {
		return keys, nil
	}
	now := k.now()
	if !k.lastFetch.IsZero() && now.Sub(k.lastFetch) < k.interval {
		return nil, errKeyRefreshLimited
	}
	k.lastFetch = now
	keys, err := k.fetch(ctx)
	if err != nil {
		k.log.Warn("oauth: fetching the token issuer's keys failed", "jwks_uri", k.url, "err", err)
		return nil, errors.New("the token issuer's keys cannot be fetched")
	}
	k.mu.Lock()
	k.keys = keys
	k.generation++
	k.mu.Unlock()
	return keys, nil
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", k.url, resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%s: not a JWK set: %w", k.url, err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		// One key of a type we cannot use must not hide the others.
		if err := json.Unmarshal(raw, &key); err != nil || key.Use == "enc" {
			continue
		}
		if !key.IsPublic() {
			key = key.Public() // a symmetric key has no public half and is dropped below
		}
		if !key.Valid() {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}
