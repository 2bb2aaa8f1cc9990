package api_test

import (
	"net/http"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Every body the API reads refuses a name given twice (where the last
// would otherwise win) and a name that differs from the contract only in
// case, so that one body can never mean two things.
func TestDuplicateAndCaseVariantNamesAreRefusedInEveryBody(t *testing.T) {
	s := newServer(t)
	req, err := s.client(t, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		t.Fatal(err)
	}
	sess := "/v1/sessions/sess-aaaaaaaaaaaaaaaa"
	tests := []struct {
		name, principal, path, body string
	}{
		{"submit: role twice", "user:alice", "/v1/requests", `{"role":"health","role":"admin","resources":["db-1"],"duration":"1h","reason":"x","ticket":"T-1"}`},
		{"submit: Role", "user:alice", "/v1/requests", `{"Role":"health","resources":["db-1"],"duration":"1h","reason":"x"}`},
		{"submit: RESOURCES", "user:alice", "/v1/requests", `{"role":"health","RESOURCES":["db-1"],"duration":"1h","reason":"x"}`},
		{"approve: reason twice", "user:carol", "/v1/requests/" + req.ID + "/approve", `{"reason":"a","reason":"b"}`},
		{"deny: Reason", "user:carol", "/v1/requests/" + req.ID + "/deny", `{"Reason":"no"}`},
		{"revoke: reason twice", "user:alice", "/v1/requests/" + req.ID + "/revoke", `{"reason":"","reason":"x"}`},
		{"certificate: Public_Key", "user:alice", "/v1/requests/" + req.ID + "/certificate", `{"Public_Key":"ssh-ed25519 AAAA"}`},
		{"hop certificate: resource twice", "bastion:bastion-1", "/v1/requests/" + req.ID + "/hop-certificate", `{"resource":"db-1","resource":"db-2","public_key":"x"}`},
		{"mfa enroll: CODE", "user:bob", "/v1/mfa/enroll", `{"CODE":"123456"}`},
		{"mfa check: user twice", "bastion:bastion-1", "/v1/mfa/check", `{"user":"alice","user":"bob","code":"123456","client_addr":"1.2.3.4"}`},
		{"password: Password", "user:alice", "/v1/password", `{"Password":"correct horse battery"}`},
		{"session start: User", "bastion:bastion-1", "/v1/sessions", `{"request_id":"` + req.ID + `","resource":"db-1","User":"alice","client_addr":"1.2.3.4"}`},
		{"heartbeat: sessions twice", "bastion:bastion-1", "/v1/sessions/heartbeat", `{"sessions":[],"sessions":["x"]}`},
		{"session end: reason twice", "bastion:bastion-1", sess + "/end", `{"reason":"a","reason":"b"}`},
		{"submit: reason twice", "user:alice", "/v1/requests", `{"role":"health","resources":["db-1"],"duration":"1h","reason":"x","reason":"y"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := rawCall(t, s, tc.principal, http.MethodPost, tc.path, []byte(tc.body))
			if resp.StatusCode != http.StatusBadRequest || errorCode(t, b) != "bad_request" {
				t.Fatalf("%s %s: got %d %s, want 400 bad_request", tc.path, tc.body, resp.StatusCode, b)
			}
		})
	}
	// Nothing the refused bodies asked for happened.
	views, err := s.wf.List(ctx, workflow.UserActor("alice"), workflow.ListFilter{Mine: true})
	if err != nil || len(views) != 1 {
		t.Fatalf("after the refusals alice has %d requests (%v), want only the first", len(views), err)
	}
}
