package api_test

import (
	"net/http"
	"testing"
)

// FuzzRequestBodies sends arbitrary bodies, signed, to every endpoint that
// takes one: the server must answer with a JSON error or a success, never
// crash, never a 5xx.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`,
		`{"role":"admin","resources":["db-1","db-2"],"duration":"2h","reason":"x","ticket":"INC-1"}`,
		`{"reason":"ok"}`, `{"public_key":"ssh-ed25519 AAAA"}`, `{"resource":"db-1","public_key":""}`,
		`{"code":"123456"}`, `{}`, `[]`, `null`, `{"duration":"-1h"}`, `{"resources":[null]}`,
		`{"role":"reader","resources":["db-1"],"duration":"1h","reason":"x","start":"+8h"}`,
		`{"role":"reader","resources":["db-1"],"duration":"1h","reason":"x","start":"2026-12-02T02:00:00Z"}`,
		`{"role":"reader","resources":["db-1"],"duration":"1h","reason":"x","start":"+-1h"}`,
		`{"reason":"ok","duration":"30m","code":"123456"}`, `{"duration":"0s"}`, `{"public_key":"ssh-ed25519 AAAA","code":"1"}`,
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
		if resp.StatusCode >= 400 {
			errorCode(t, b)
		}
	})
}
