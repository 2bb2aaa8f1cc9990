package apiauth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The signature covers a request's Idempotency-Key: nobody on the way can
// add one, change it or strip it (and so make a retry run twice, or fetch
// the kept answer of another call).
func TestSignatureCoversTheIdempotencyKey(t *testing.T) {
	const key = "cli-0123456789abcdef"
	sign := func(t *testing.T, withKey bool) (*fixture, *http.Request) {
		f := newFixture(t)
		r := httptest.NewRequest(http.MethodPost, "https://ca.example/v1/requests", bytes.NewReader([]byte(testBody)))
		if withKey {
			r.Header.Set(IdempotencyKeyHeader, key)
		}
		s := &Signer{Principal: "user:alice", Key: f.aliceKey, Clock: clockAt(testNow)}
		if err := s.Sign(r, []byte(testBody)); err != nil {
			t.Fatal(err)
		}
		return f, r
	}
	tests := []struct {
		name    string
		withKey bool
		tamper  func(r *http.Request)
		want    error
	}{
		{"signed with a key", true, func(*http.Request) {}, nil},
		{"signed without a key", false, func(*http.Request) {}, nil},
		{"key changed", true, func(r *http.Request) { r.Header.Set(IdempotencyKeyHeader, "cli-0123456789abcdeX") }, ErrBadSignature},
		{"key stripped", true, func(r *http.Request) { r.Header.Del(IdempotencyKeyHeader) }, ErrBadSignature},
		{"key added", false, func(r *http.Request) { r.Header.Set(IdempotencyKeyHeader, key) }, ErrBadSignature},
		{"second key added", true, func(r *http.Request) { r.Header.Add(IdempotencyKeyHeader, "other-0123456789ab") }, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, r := sign(t, tc.withKey)
			tc.tamper(r)
			_, err := f.verifier.Verify(context.Background(), r, []byte(testBody))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
