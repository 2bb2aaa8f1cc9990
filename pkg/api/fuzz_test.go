package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
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
		`{"role":"health","role":"admin","resources":["db-1"],"duration":"1h","reason":"x"}`,
		`{"Role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`,
		`{"reason":"a","\u0072eason":"b"}`, `{"REASON":"x"}`, ` {"reason":"x"} `, `{"reason":"x"}{}`,
		`{"role":"health","resources":["db-1"],"duration":"1h","reason":"x","Reason":"y"}`,
	} {
		f.Add(seed, uint8(0))
	}
	s := newServer(f)
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
