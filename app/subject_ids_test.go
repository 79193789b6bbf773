package app

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// issuer is an OpenID provider that signs whatever claims a test asks for:
// the development issuer only knows its own accounts.
type issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// token is an access token for sub with the claims given.
func (is *issuer) token(t *testing.T, sub string, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": is.srv.URL, "aud": "switchboard", "sub": sub, "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: is.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestSubjectIsNotAProgramsUser: an end user whose token subject is
// "program-42/7" is not program-42's end user 7, whose stored id that
// subject used to be: it neither lists nor writes to that user's ticket,
// nor hears of it.
func TestSubjectIsNotAProgramsUser(t *testing.T) {
	is := newIssuer(t)
	n := startNodeEnv(t, t.TempDir(), map[string]string{"SWITCHBOARD_OIDC_ISSUER": is.srv.URL})
	program := is.token(t, "program-42", map[string]any{"client_id": "program-42", "program_id": "program-42"})
	mallory := is.token(t, "program-42/7", map[string]any{"name": "Mallory"})
	operator := is.token(t, "op-1", map[string]any{"roles": []string{"operator"}, "name": "Olga"})

	prog, progEv := dial(t, n, program)
	mustAck(t, prog, "subscribe", map[string]any{"userId": "7", "programId": "program-42", "fullNm": "Seven"})
	mustAck(t, prog, "createTicket", "t-7", map[string]any{"ticketId": "t-7", "ticketNm": "Refund"})
	mustAck(t, prog, "updateMessage", "t-7", "m-7", map[string]any{"content": "my card number", "type": 1}, "")

	user, userEv := dial(t, n, mallory)
	mustAck(t, user, "subscribe") // its own room, whatever it is named
	if status, body := rest(t, n, "GET", "/api/v1/tickets", mallory, ""); status != 200 || mentions(body, "t-7") {
		t.Fatalf("the subject program-42/7 lists program-42's user 7's ticket: %d %v", status, body)
	}
	if status, _ := rest(t, n, "GET", "/api/v1/tickets/t-7/messages", mallory, ""); status != 404 {
		t.Fatalf("the subject program-42/7 reads user 7's messages: %d", status)
	}
	if err, _ := ack(t, user, "updateMessage", "t-7", "m-x", map[string]any{"content": "hi", "type": 1}, "").(map[string]any); err["code"] != "NOT_FOUND" {
		t.Fatalf("the subject program-42/7 writes to user 7's ticket: %v", err)
	}

	// The ticket's owner hears that it was accepted; the subject does not.
	op, _ := dial(t, n, operator)
	mustAck(t, op, "subscribeOperator")
	mustAck(t, op, "acceptTicket", "t-7", map[string]any{"ticketId": "t-7"}, "7")
	if got := progEv.next(t, "ticketAccepted")[0].(map[string]any); got["ownerId"] != "program-42/7" {
		t.Fatalf("ticketAccepted to the program: %v", got)
	}
	select {
	case got := <-userEv.of("ticketAccepted"):
		t.Fatalf("the subject program-42/7 heard of user 7's ticket: %v", got)
	case <-time.After(300 * time.Millisecond):
	}
}

// mentions reports whether a JSON value contains s anywhere.
func mentions(v any, s string) bool {
	b, _ := json.Marshal(v)
	return strings.Contains(string(b), s)
}
