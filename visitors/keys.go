package visitors

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	_ "crypto/sha256" // crypto.SHA256, the thumbprint's hash
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// signingKey is the ES256 key visitor tokens are signed with.
type signingKey struct {
	kid    string
	public jose.JSONWebKey
	signer jose.Signer
	jwks   []byte // the public key as a JWK set, served at /api/v1/visitors/jwks
}

// keyName is the row of visitor_signing_keys in use. One name, one row:
// the first node to insert it wins and every other node reads its key.
const keyName = "visitors"

// loadKey returns the database's signing key, inserting a new one if
// there is none yet. Two nodes starting at once both insert with ON
// CONFLICT DO NOTHING and then read the one row that won.
func loadKey(ctx context.Context, db *database.DB, committer *database.Committer, now time.Time) (signingKey, error) {
	candidate, err := newPrivateJWK()
	if err != nil {
		return signingKey{}, err
	}
	var stored string
	err = committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if _, err := database.Exec(tx, `INSERT INTO visitor_signing_keys (name, jwk, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, keyName, candidate, now.UnixMilli()); err != nil {
			return nil, err
		}
		return nil, database.QueryRow(tx, `SELECT jwk FROM visitor_signing_keys WHERE name = ?`, keyName).Scan(&stored)
	})
	if err != nil {
		return signingKey{}, fmt.Errorf("visitors: reading the signing key: %w", err)
	}
	return parseKey(stored)
}

// newPrivateJWK is a new P-256 private key as a JWK.
func newPrivateJWK() (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: priv, Algorithm: string(jose.ES256), Use: "sig"})
	return string(b), err
}

func parseKey(stored string) (signingKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal([]byte(stored), &jwk); err != nil {
		return signingKey{}, fmt.Errorf("visitors: the stored signing key is not a JWK: %w", err)
	}
	priv, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return signingKey{}, fmt.Errorf("visitors: the stored signing key is not a P-256 private key")
	}
	public := jwk.Public()
	thumb, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return signingKey{}, err
	}
	// The kid is the key's thumbprint (RFC 7638): the same on every node,
	// and no provider's kid by chance.
	public.KeyID = "visitors-" + base64.RawURLEncoding.EncodeToString(thumb)
	public.Algorithm, public.Use = string(jose.ES256), "sig"
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader(jose.HeaderKey("kid"), public.KeyID))
	if err != nil {
		return signingKey{}, err
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{public}})
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{kid: public.KeyID, public: public, signer: signer, jwks: jwks}, nil
}

// JWKS is the public signing key as a JWK set (RFC 7517).
func (s *Service) JWKS() []byte { return s.key.jwks }
