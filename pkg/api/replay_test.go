package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
)

// What a replayed call meets across replicas, exactly as README and
// docs/api.md say: a state-changing call is refused by every replica (its
// nonce is in the shared database); a read is refused by the replica that
// answered it, and answered once by another replica within the window
// (read nonces are kept in each replica's memory).
func TestReplayedCallsAcrossReplicas(t *testing.T) {
	s := newServer(t)
	other := s.replica(t)
	host := mustURL(t, s.url).Host // replicas behind one name share the signed Host

	signed := func(method, path string, body []byte) string {
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
		if err := (&apiauth.Signer{Principal: "user:alice", Key: s.keys["user:alice"]}).Sign(req, body); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	send := func(base, method, path, auth string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Host = host
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	body := []byte(`{"role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`)
	auth := signed(http.MethodPost, "/v1/requests", body)
	if status, b := send(s.url, http.MethodPost, "/v1/requests", auth, body); status != http.StatusCreated {
		t.Fatalf("the call itself: %d %s", status, b)
	}
	for _, base := range []string{s.url, other} {
		if status, b := send(base, http.MethodPost, "/v1/requests", auth, body); status != http.StatusUnauthorized || errorCode(t, b) != "replayed_request" {
			t.Fatalf("state-changing call replayed to %s: %d %s, want 401 replayed_request", base, status, b)
		}
	}

	auth = signed(http.MethodGet, "/v1/whoami", nil)
	if status, b := send(s.url, http.MethodGet, "/v1/whoami", auth, nil); status != http.StatusOK {
		t.Fatalf("the read itself: %d %s", status, b)
	}
	if status, b := send(s.url, http.MethodGet, "/v1/whoami", auth, nil); status != http.StatusUnauthorized || errorCode(t, b) != "replayed_request" {
		t.Fatalf("read replayed to the replica that answered it: %d %s, want 401 replayed_request", status, b)
	}
	if status, b := send(other, http.MethodGet, "/v1/whoami", auth, nil); status != http.StatusOK {
		t.Fatalf("read replayed to another replica: %d %s; docs/api.md says it is answered once", status, b)
	}
	if status, b := send(other, http.MethodGet, "/v1/whoami", auth, nil); status != http.StatusUnauthorized || errorCode(t, b) != "replayed_request" {
		t.Fatalf("read replayed to the other replica again: %d %s, want 401 replayed_request", status, b)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
