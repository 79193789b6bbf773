package visitors

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	_ "crypto/sha256" // crypto.SHA256, the thumbprint's hash
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Signing keys. The database holds the keys every node shares, numbered
// by generation: the newest signs, and the ones it replaced stay until
// every token they signed has expired, so that a rotation refuses no
// token. Each node keeps the keys in a keyRing and goes back to the
// database only when something can have changed:
//
//   - its signing key is due for rotation (older than Options.KeyRotation):
//     it makes the next generation, unless another node has, and reads it;
//   - a token names a visitor key it does not know, near or after that
//     time: another node may have rotated first;
//   - a retired key's tokens have all expired: it drops the key from its
//     ring (no database needed; the pruning job deletes the row).
//
// Every node thus agrees on the signing key without talking to the
// others: the rotation time is the newest key's age, the same for all.

// kidPrefix begins the kid of every visitor key: a token naming one is
// Switchboard's to verify, never the OpenID provider's.
const kidPrefix = "visitors-"

// clockSkew is how far apart the nodes' clocks are assumed to be at most.
// A node may sign with a key this long after another replaced it, and a
// node reloads its keys for an unknown kid from this long before its
// rotation time.
const clockSkew = time.Minute

// signingKey is one ES256 key visitor tokens are signed with.
type signingKey struct {
	generation int64
	created    time.Time
	// retired is when its successor was made (zero for the newest key).
	retired time.Time
	kid     string
	public  jose.JSONWebKey
	signer  jose.Signer
}

// keyRing is what a node knows of the keys at one time. It is never
// changed once built: a change builds a new ring.
type keyRing struct {
	signing *signingKey
	all     []*signingKey // oldest first, signing last
	byKid   map[string]*signingKey
	jwks    []byte
	// rotateAt is when signing is due for replacement; dropAt when the
	// next retired key's tokens have all expired (zero: none retired).
	rotateAt, dropAt time.Time
}

// newRing builds the ring of keys (oldest first) as of now, leaving out
// retired keys kept longer than keep.
func newRing(keys []*signingKey, now time.Time, rotation, keep time.Duration) (*keyRing, error) {
	if len(keys) == 0 {
		return nil, errors.New("visitors: no signing key")
	}
	r := &keyRing{signing: keys[len(keys)-1], byKid: map[string]*signingKey{}}
	r.rotateAt = r.signing.created.Add(rotation)
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		if !k.retired.IsZero() {
			drop := k.retired.Add(keep)
			if !now.Before(drop) {
				continue
			}
			if r.dropAt.IsZero() || drop.Before(r.dropAt) {
				r.dropAt = drop
			}
		}
		r.all = append(r.all, k)
		r.byKid[k.kid] = k
		set.Keys = append(set.Keys, k.public)
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	r.jwks = jwks
	return r, nil
}

// keepRetired is how long a retired key stays after its successor was
// made: a node whose clock is behind may still sign with it for
// clockSkew, its last token lasts TokenTTL, and verifiers allow Leeway.
func (o Options) keepRetired() time.Duration {
	return clockSkew + o.TokenTTL + max(o.Leeway, 0)
}

// keys returns the ring to sign and publish with: reloaded from the
// database (rotating the key) when the signing key is due, or without
// the retired keys whose tokens have all expired. A failed reload is
// logged and the ring in hand is used: its key still works, and the next
// use tries again.
func (s *Service) keys(ctx context.Context) *keyRing {
	r := s.ring.Load()
	now := s.opts.Now()
	switch {
	case !now.Before(r.rotateAt):
		next, err := s.reload(ctx, r)
		if err != nil {
			s.opts.Logger.Warn("visitors: the signing key is due for rotation but the keys could not be read; signing with the old one", "err", err)
			return r
		}
		return next
	case !r.dropAt.IsZero() && !now.Before(r.dropAt):
		next, err := newRing(r.all, now, s.opts.KeyRotation, s.opts.keepRetired())
		if err != nil {
			return r
		}
		s.ring.CompareAndSwap(r, next)
		return next
	}
	return r
}

// verifyingKey returns the key named kid, reloading the keys if another
// node may have made it since this one read them.
func (s *Service) verifyingKey(ctx context.Context, kid string) (*signingKey, error) {
	r := s.keys(ctx)
	if k := r.byKid[kid]; k != nil {
		return k, nil
	}
	// Before rotateAt (less the skew) no node makes a new key: an unknown
	// kid then costs no database read, however many are sent.
	if !strings.HasPrefix(kid, kidPrefix) || s.opts.Now().Before(r.rotateAt.Add(-clockSkew)) {
		return nil, nil
	}
	r, err := s.reload(ctx, r)
	if err != nil {
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "reading the visitor keys: %v", err)
	}
	return r.byKid[kid], nil
}

// reload reads the keys from the database, first making the next
// generation if the newest is due for rotation, and installs them. seen
// is the ring the caller found stale: if another goroutine has replaced
// it meanwhile, that ring is the answer.
func (s *Service) reload(ctx context.Context, seen *keyRing) (*keyRing, error) {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	if cur := s.ring.Load(); cur != seen {
		return cur, nil
	}
	r, err := loadKeys(ctx, s.committer, s.opts.Now(), s.opts.KeyRotation, s.opts.keepRetired())
	if err != nil {
		return nil, err
	}
	s.ring.Store(r)
	return r, nil
}

// storedKey is one row of visitor_signing_keys.
type storedKey struct {
	generation int64
	jwk        string
	created    int64
}

// loadKeys returns the database's keys as a ring. With no key yet it
// makes the first; with the newest older than rotation, its successor.
// Two nodes doing so at once both insert the same generation with ON
// CONFLICT DO NOTHING (PostgreSQL makes the second wait for the first's
// commit) and then read the one row that won.
func loadKeys(ctx context.Context, committer *database.Committer, now time.Time, rotation, keep time.Duration) (*keyRing, error) {
	candidate, err := newPrivateJWK()
	if err != nil {
		return nil, err
	}
	var rows []storedKey
	err = committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		rows = nil // the Op may run again after a rollback (database.Op)
		if err := rotateOp(tx, candidate, now, rotation); err != nil {
			return nil, err
		}
		var err error
		rows, err = readKeys(tx)
		return nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("visitors: reading the signing keys: %w", err)
	}
	keys := make([]*signingKey, 0, len(rows))
	for i, row := range rows {
		k, err := parseKey(row)
		if err != nil {
			return nil, err
		}
		if i+1 < len(rows) {
			k.retired = time.UnixMilli(rows[i+1].created)
		}
		keys = append(keys, k)
	}
	return newRing(keys, now, rotation, keep)
}

// rotateOp inserts the first key, or the newest's successor if the
// newest is older than rotation.
func rotateOp(tx *gorm.DB, candidate string, now time.Time, rotation time.Duration) error {
	var generation, created int64
	err := database.QueryRow(tx, `SELECT generation, created_at FROM visitor_signing_keys ORDER BY generation DESC LIMIT 1`).
		Scan(&generation, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		generation = -1
	case err != nil:
		return err
	case now.Before(time.UnixMilli(created).Add(rotation)):
		return nil
	}
	next := generation + 1
	name := "visitors" // the first key's name since 0005
	if next > 0 {
		name = fmt.Sprintf("visitors-%d", next)
	}
	_, err = database.Exec(tx, `INSERT INTO visitor_signing_keys (name, generation, jwk, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, name, next, candidate, now.UnixMilli())
	return err
}

func readKeys(tx *gorm.DB) ([]storedKey, error) {
	rows, err := database.Query(tx, `SELECT generation, jwk, created_at FROM visitor_signing_keys ORDER BY generation`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedKey
	for rows.Next() {
		var k storedKey
		if err := rows.Scan(&k.generation, &k.jwk, &k.created); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// deleteRetiredKeys deletes the keys whose successor was made at or
// before cutoff: every token they signed has expired. The newest key has
// no successor and is never deleted.
func deleteRetiredKeys(tx *gorm.DB, cutoff time.Time) (int64, error) {
	return database.Exec(tx, `DELETE FROM visitor_signing_keys WHERE EXISTS (SELECT 1 FROM visitor_signing_keys newer
		WHERE newer.generation > visitor_signing_keys.generation AND newer.created_at <= ?)`, cutoff.UnixMilli())
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

func parseKey(row storedKey) (*signingKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal([]byte(row.jwk), &jwk); err != nil {
		return nil, fmt.Errorf("visitors: stored signing key %d is not a JWK: %w", row.generation, err)
	}
	priv, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("visitors: stored signing key %d is not a P-256 private key", row.generation)
	}
	public := jwk.Public()
	thumb, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	// The kid is the key's thumbprint (RFC 7638): the same on every node,
	// and no provider's kid by chance.
	public.KeyID = kidPrefix + base64.RawURLEncoding.EncodeToString(thumb)
	public.Algorithm, public.Use = string(jose.ES256), "sig"
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader(jose.HeaderKey("kid"), public.KeyID))
	if err != nil {
		return nil, err
	}
	return &signingKey{generation: row.generation, created: time.UnixMilli(row.created), kid: public.KeyID,
		public: public, signer: signer}, nil
}

// JWKS is the public keys that verify visitor tokens as a JWK set
// (RFC 7517): the signing key and the retired keys whose tokens may still
// be valid.
func (s *Service) JWKS(ctx context.Context) []byte { return s.keys(ctx).jwks }
