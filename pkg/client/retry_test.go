package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// attempts records what a fake CA saw, and answers each attempt with the
// next of its scripted answers ("drop" closes the connection unanswered).
type attempts struct {
	mu      sync.Mutex
	keys    []string
	auths   []string
	answers []string
}

func (a *attempts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.keys = append(a.keys, r.Header.Get(apiauth.IdempotencyKeyHeader))
	a.auths = append(a.auths, r.Header.Get("Authorization"))
	answer := "ok"
	if len(a.answers) > 0 {
		answer, a.answers = a.answers[0], a.answers[1:]
	}
	a.mu.Unlock()
	switch answer {
	case "drop":
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	case "ok":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"req-aaaaaaaaaaaaaaaa","state":"approved"}`))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"code":"` + answer + `","message":"m"}}`))
	}
}

// seen returns the keys and Authorization headers of the attempts so far.
func (a *attempts) seen() (keys, auths []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.keys...), append([]string(nil), a.auths...)
}

func newTestClient(t *testing.T, a *attempts) *Client {
	t.Helper()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(srv.URL, &apiauth.Signer{Principal: "user:alice", Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetRetry(Retry{Attempts: 4, Wait: time.Millisecond})
	return c
}

// A state-changing call whose outcome is unknown (no answer, or 503
// outcome_unknown) or that changed nothing (503 unavailable) is sent
// again under the same key, signed afresh, until it has an answer.
func TestUnsureCallIsSentAgainUnderTheSameKey(t *testing.T) {
	a := &attempts{answers: []string{"drop", "outcome_unknown", "unavailable", "ok"}}
	c := newTestClient(t, a)
	c.SetIdempotencyKeys("cli-test-key-000000")
	if _, err := c.Submit(context.Background(), wire.SubmitRequest{Role: "health"}); err != nil {
		t.Fatal(err)
	}
	keys, auths := a.seen()
	if len(keys) != 4 {
		t.Fatalf("%d attempts, want 4", len(keys))
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if k != "cli-test-key-000000" {
			t.Errorf("attempt %d had key %q", i+1, k)
		}
		if seen[auths[i]] {
			t.Errorf("attempt %d reused a signature (and so its nonce)", i+1)
		}
		seen[auths[i]] = true
	}
	// The command's next call gets the next key.
	if _, err := c.Revoke(context.Background(), "req-aaaaaaaaaaaaaaaa", ""); err != nil {
		t.Fatal(err)
	}
	keys, _ = a.seen()
	if got := keys[len(keys)-1]; got != "cli-test-key-000000.2" {
		t.Errorf("second call's key %q, want cli-test-key-000000.2", got)
	}
}

// When every attempt leaves the outcome unknown, the error says so and
// names the key to learn it with.
func TestCallWithoutADefiniteAnswerEndsInOutcomeUnknown(t *testing.T) {
	a := &attempts{answers: []string{"outcome_unknown", "drop", "outcome_unknown", "drop"}}
	c := newTestClient(t, a)
	_, err := c.Submit(context.Background(), wire.SubmitRequest{Role: "health"})
	keys, _ := a.seen()
	var unknown *OutcomeUnknownError
	if !errors.As(err, &unknown) || unknown.Key == "" || unknown.Key != keys[0] || len(keys) != 4 {
		t.Fatalf("got %v after %d attempts; want an OutcomeUnknownError naming key %q after 4", err, len(keys), keys[0])
	}
}

// A definite refusal is not sent again, and reads are never keyed.
func TestRefusalsAndReadsAreSentOnce(t *testing.T) {
	a := &attempts{answers: []string{"grant_not_live"}}
	c := newTestClient(t, a)
	if _, err := c.Revoke(context.Background(), "req-aaaaaaaaaaaaaaaa", ""); !IsCode(err, "grant_not_live") {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Get(context.Background(), "req-aaaaaaaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := a.seen(); len(keys) != 2 || keys[1] != "" {
		t.Fatalf("attempts with keys %q; want one refused call and one unkeyed read", keys)
	}
}
