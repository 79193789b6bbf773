package rtm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// TokenPrefix begins every socket token, so that a verifier tells one
// from an access token without a lookup.
const TokenPrefix = "rtm_"

// TokenLifetime is how long a socket token may wait for its socket.
const TokenLifetime = 60 * time.Second

// Tokens issues and takes single-use socket tokens (POST
// /api/v1/rtm/connect). A socket token stands for the principal of the
// access token it was issued for, once, within TokenLifetime: a browser
// or an app never puts its long-lived token in a socket's URL or first
// frame. Tokens are stored, not held in memory, so a token issued by one
// node is taken on another; only their hashes are.
type Tokens struct {
	db        *database.DB
	committer *database.Committer
	now       func() time.Time
}

// NewTokens returns the token store on db, written through committer.
func NewTokens(db *database.DB, committer *database.Committer) *Tokens {
	return &Tokens{db: db, committer: committer, now: time.Now}
}

// tokenRow is one stored token.
type tokenRow struct {
	Hash      string `gorm:"column:hash;primaryKey"`
	Principal string `gorm:"column:principal"`
	ExpiresAt int64  `gorm:"column:expires_at"`
	UsedAt    int64  `gorm:"column:used_at"`
}

func (tokenRow) TableName() string { return "rtm_tokens" }

func hashOf(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// Issue stores a new socket token for p and returns it. Tokens expired
// for an hour are deleted on the way: issuing is what makes them, so it
// also keeps their table small (the hour lets a late socket still hear
// TOKEN_EXPIRED rather than TOKEN_INVALID).
func (t *Tokens) Issue(ctx context.Context, p switchboard.Principal) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	raw := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	who, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	now := t.now().UnixMilli()
	row := tokenRow{Hash: hashOf(raw), Principal: string(who), ExpiresAt: now + TokenLifetime.Milliseconds()}
	err = t.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if err := tx.Where("expires_at < ?", now-time.Hour.Milliseconds()).Delete(&tokenRow{}).Error; err != nil {
			return nil, err
		}
		return nil, tx.Create(&row).Error
	})
	if err != nil {
		return "", err
	}
	return raw, nil
}

// Take uses up a socket token and returns the principal it stands for.
// A token already taken, unknown or malformed is TOKEN_INVALID; one past
// its lifetime is TOKEN_EXPIRED. Of two sockets racing with one token,
// exactly one gets the principal: the conditional update decides.
func (t *Tokens) Take(ctx context.Context, raw string) (switchboard.Principal, error) {
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) > 128 {
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENINVALID, "not a socket token (POST /api/v1/rtm/connect gives one)")
	}
	hash := hashOf(raw)
	now := t.now().UnixMilli()
	var row tokenRow
	var taken bool
	err := t.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		res := tx.Model(&tokenRow{}).Where("hash = ? AND used_at = 0 AND expires_at >= ?", hash, now).Update("used_at", now)
		if res.Error != nil {
			return nil, res.Error
		}
		taken = res.RowsAffected == 1
		row = tokenRow{}
		return nil, tx.Where("hash = ?", hash).Limit(1).Find(&row).Error
	})
	switch {
	case err != nil:
		return switchboard.Principal{}, err
	case row.Hash == "" || (!taken && row.UsedAt != 0):
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENINVALID, "the socket token is unknown or was used already; get a new one")
	case !taken:
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENEXPIRED, "the socket token expired; get a new one")
	}
	var p switchboard.Principal
	if err := json.Unmarshal([]byte(row.Principal), &p); err != nil {
		return p, switchboard.Errorf(switchboard.EINTERNAL, "stored socket token: %v", err)
	}
	if !p.ExpiresAt.After(t.now()) {
		return switchboard.Principal{}, switchboard.Errorf(switchboard.ETOKENEXPIRED, "the access token behind the socket token expired")
	}
	return p, nil
}

// Verifier accepts socket tokens beside what next accepts: the Socket.IO
// bindings take one wherever they take an access token. A socket token
// is used up by its first verification.
type Verifier struct {
	Tokens *Tokens
	Next   switchboard.Verifier
}

// Verify takes a socket token, or asks Next about anything else.
func (v Verifier) Verify(ctx context.Context, raw string) (switchboard.Principal, error) {
	if strings.HasPrefix(raw, TokenPrefix) {
		return v.Tokens.Take(ctx, raw)
	}
	return v.Next.Verify(ctx, raw)
}
