package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"
)

// Files of the development issuer in the data directory. They are what
// lets tokens (and `switchboard token`) survive a restart of the server.
const (
	devKeyFile     = "oidc-signing-key.pem"
	devSecretsFile = "oidc-program-secrets.json"
)

// devSigningKey is the issuer's RS256 key. It implements op.SigningKey
// (with the private key) and op.Key (with the public one).
type devSigningKey struct {
	id      string
	private *rsa.PrivateKey
}

func (k *devSigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *devSigningKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *devSigningKey) ID() string                                  { return k.id }
func (k *devSigningKey) Use() string                                 { return "sig" }

// devPublicKey is the op.Key view of the signing key: KeySet must not hand
// out the private key (op publishes Key() in the JWKS).
type devPublicKey struct{ *devSigningKey }

func (k devPublicKey) Key() any { return &k.private.PublicKey }

// Key returns the private key, for signing.
func (k *devSigningKey) Key() any { return k.private }

// loadOrCreateSigningKey reads the issuer's key from dir, creating it (and
// dir) on first use. Its kid is the key's thumbprint, so it is the same
// after a restart without being stored.
func loadOrCreateSigningKey(dir string) (*devSigningKey, error) {
	path := filepath.Join(dir, devKeyFile)
	var key *rsa.PrivateKey
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		block, _ := pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("%s: not PEM; delete it to get a new key (earlier tokens stop verifying)", path)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var ok bool
		if key, ok = parsed.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("%s: not an RSA key", path)
		}
	case errors.Is(err, fs.ErrNotExist):
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	thumb, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &devSigningKey{id: base64.RawURLEncoding.EncodeToString(thumb[:16]), private: key}, nil
}

// loadOrCreateProgramSecrets returns the secret of every demo program,
// creating the missing ones.
func loadOrCreateProgramSecrets(dir string) (map[string]string, error) {
	secrets, err := readProgramSecrets(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if secrets == nil {
		secrets = map[string]string{}
	}
	changed := false
	for _, id := range DevPrograms {
		if secrets[id] != "" {
			continue
		}
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		secrets[id] = base64.RawURLEncoding.EncodeToString(b)
		changed = true
	}
	if changed {
		b, err := json.MarshalIndent(secrets, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(filepath.Join(dir, devSecretsFile), append(b, '\n')); err != nil {
			return nil, err
		}
	}
	return secrets, nil
}

func readProgramSecrets(dir string) (map[string]string, error) {
	path := filepath.Join(dir, devSecretsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var secrets map[string]string
	if err := json.Unmarshal(b, &secrets); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secrets, nil
}

// writeFileAtomic writes a secret file readable by its owner only, so that
// a crash never leaves half a key behind.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
