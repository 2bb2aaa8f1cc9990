package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
)

// FuzzRequestBodies sends arbitrary bodies, signed, to every endpoint that
// takes one: the server must answer with a JSON error or a success, never
// crash, never a 5xx; and a body that names a member twice, or names one
// in another case than the contract's (all lower case), must be refused
// as bad_request, whatever else it holds.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`,
		`{"role":"admin","resources":["db-1","db-2"],"duration":"2h","reason":"x","ticket":"INC-1"}`,
		`{"reason":"ok"}`, `{"public_key":"ssh-ed25519 AAAA"}`, `{"resource":"db-1","public_key":""}`,
		`{"code":"123456"}`, `{}`, `[]`, `null`, `{"duration":"-1h"}`, `{"resources":[null]}`,
		`{"request_id":"req-aaaaaaaaaaaaaaaa","resource":"db-1","user":"alice","client_addr":"192.0.2.1"}`,
		`{"refusals":[{"kind":"login","user":"alice","reason":"x","client_addr":"192.0.2.1"}],"counts":[{"source":"192.0.2.9","reason":"y","count":2}]}`,
		`{"counts":[{"source":"\u001b[2J","reason":"y","count":-1}]}`,
		`{"role":"health","role":"admin","resources":["db-1"],"duration":"1h","reason":"x"}`,
		`{"Role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`,
		`{"reason":"a","\u0072eason":"b"}`, `{"REASON":"x"}`, ` {"reason":"x"} `, `{"reason":"x"}{}`,
		`{"role":"health","resources":["db-1"],"duration":"1h","reason":"x","Reason":"y"}`,
		`{"role":"reader","resources":["db-1"],"duration":"1h","reason":"x","start":"+8h"}`,
		`{"role":"reader","resources":["db-1"],"duration":"1h","reason":"x","start":"2026-12-02T02:00:00Z"}`,
		`{"role":"reader","resources":["db-1"],"duration":"1h","reason":"x","start":"+-1h"}`,
		`{"reason":"ok","duration":"30m","code":"123456"}`, `{"duration":"0s"}`, `{"public_key":"ssh-ed25519 AAAA","code":"1"}`,
		`{"team":"storage","user":"bob","decision":"remove","reason":"moved"}`,
		`{"team":"storage","user":"alice","decision":"keep","reason":"\u001b[2J"}`,
		`{"team":"../x","user":"","decision":"","reason":""}`,
		`{"session_id":"bg-0123456789abcdef01234567","certificate":"ssh-ed25519-cert-v01@openssh.com AAAA","client_addr":"192.0.2.1:5","command":"","started_at":"2026-12-02T02:00:00Z","ended_at":"2026-12-02T02:01:00Z","end_reason":"x"}`,
		`{"session_id":"../../x","certificate":"","started_at":"2026-12-02T02:00:00Z","ended_at":"0001-01-01T00:00:00Z","end_reason":"","exit_status":-1}`,
	} {
		f.Add(seed, uint8(0))
	}
	s := newServer(f)
	s.cfg.Reviews = s.wf
	s.url = s.replica(f)
	req, err := s.client(f, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		f.Fatal(err)
	}
	paths := []struct{ principal, path string }{
		{"user:alice", "/v1/requests"},
		{"user:carol", "/v1/requests/" + req.ID + "/approve"},
		{"user:carol", "/v1/requests/" + req.ID + "/deny"},
		{"user:alice", "/v1/requests/" + req.ID + "/revoke"},
		{"user:alice", "/v1/requests/" + req.ID + "/certificate"},
		{"bastion:bastion-1", "/v1/requests/" + req.ID + "/hop-certificate"},
		{"user:bob", "/v1/mfa/enroll"},
		{"bastion:bastion-1", "/v1/sessions/check"},
		{"bastion:bastion-1", "/v1/bastion/refusals"},
		{"bastion:bastion-1", "/v1/bastion/break-glass-sessions"},
		{"user:carol", "/v1/review/decisions"},
	}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		p := paths[int(which)%len(paths)]
		resp, b := rawCall(t, s, p.principal, http.MethodPost, p.path, []byte(body))
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q: %d %s", p.path, body, resp.StatusCode, b)
		}
		code := ""
		if resp.StatusCode >= 400 {
			code = errorCode(t, b)
		}
		if ambiguousNames(body) && code != "bad_request" {
			t.Fatalf("%s %q names a member twice or in another case, yet got %d %s", p.path, body, resp.StatusCode, b)
		}
	})
}

// FuzzIdempotencyKeys sends arbitrary keys and bodies twice to keyed
// endpoints: never a 5xx, and an answer marked as replayed is the first
// answer, byte for byte.
func FuzzIdempotencyKeys(f *testing.F) {
	for _, seed := range []string{"cli-0123456789abcdef", "short", "has spaces in it......", "x.y_z-0123456789", strings.Repeat("k", 81)} {
		f.Add(seed, `{"role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`, uint8(0))
		f.Add(seed, `{"reason":"ok"}`, uint8(1))
	}
	s := newServer(f)
	req, err := s.client(f, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/v1/requests", "/v1/requests/" + req.ID + "/revoke", "/v1/mfa/enroll"}
	f.Fuzz(func(t *testing.T, key, body string, which uint8) {
		path := paths[int(which)%len(paths)]
		send := func() (*http.Response, []byte, bool) {
			r, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
			r.Header.Set(apiauth.IdempotencyKeyHeader, key)
			if err := (&apiauth.Signer{Principal: "user:alice", Key: s.keys["user:alice"]}).Sign(r, []byte(body)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				return nil, nil, false // a header value net/http will not send
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b, true
		}
		first, b1, ok := send()
		if !ok {
			return
		}
		again, b2, _ := send()
		for _, resp := range []*http.Response{first, again} {
			if resp.StatusCode >= 500 {
				t.Fatalf("%s key %q body %q: %d", path, key, body, resp.StatusCode)
			}
		}
		if again.Header.Get(api.ReplayedHeader) == "true" && (again.StatusCode != first.StatusCode || !bytes.Equal(b1, b2)) {
			t.Fatalf("replayed answer differs: %d %s, then %d %s", first.StatusCode, b1, again.StatusCode, b2)
		}
	})
}

// ambiguousNames reports whether body begins with a JSON object one of
// whose names (after unescaping) appears twice or is not in lower case.
// It reads the object with duplicates allowed, so as not to share the
// server's decoder's view.
func ambiguousNames(body string) bool {
	dec := jsontext.NewDecoder(bytes.NewReader([]byte(body)), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	seen := map[string]bool{}
	for {
		tok, err := dec.ReadToken()
		if err != nil || tok.Kind() != '"' {
			return false
		}
		name := tok.String()
		if seen[name] || name != strings.ToLower(name) {
			return true
		}
		seen[name] = true
		if err := dec.SkipValue(); err != nil {
			return false
		}
	}
}
