package visitors

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/testdb"
)

// BenchmarkOwns is what routing costs every token of the OpenID provider
// (a header read), beside BenchmarkVerify, a visitor token's whole check.
func BenchmarkOwns(b *testing.B) {
	s, raw := benchService(b)
	other := "eyJhbGciOiJSUzI1NiIsImtpZCI6InByb3ZpZGVyLWtleS0xIiwidHlwIjoiYXQrand0In0" + raw[len(raw)/2:]
	b.ReportAllocs()
	for b.Loop() {
		if s.Owns(other) {
			b.Fatal("a provider's token taken for a visitor's")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s, raw := benchService(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(context.Background(), raw); err != nil {
			b.Fatal(err)
		}
	}
}

func benchService(b *testing.B) (*Service, string) {
	c := &clock{time.Now()}
	s := newService(b, testdb.Open(b, "sqlite"), c, Options{})
	g, err := s.Anonymous(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return s, g.AccessToken
}
