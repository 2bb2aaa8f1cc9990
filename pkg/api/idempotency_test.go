package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// certificateCall submits alice's health request, granted at once, and
// returns its ID, the path of its certificate call and a body for that
// call with a fresh key.
func certificateCall(t *testing.T, s *server) (grantID, path string, in wire.CertificateRequest) {
	t.Helper()
	grant, err := s.client(t, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		t.Fatal(err)
	}
	return grant.ID, "/v1/requests/" + grant.ID + "/certificate",
		wire.CertificateRequest{PublicKey: string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey()))}
}

// keyedCall sends a signed call with an Idempotency-Key.
func keyedCall(t *testing.T, s *server, principal, key, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(apiauth.IdempotencyKeyHeader, key)
	}
	if err := (&apiauth.Signer{Principal: principal, Key: s.keys[principal]}).Sign(req, b); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp, got
}

// A call sent again with its Idempotency-Key, after its answer was lost,
// gets the first answer (marked as replayed) and makes no second change.
func TestCallSentAgainWithItsKeyGetsTheFirstAnswerAndChangesNothingMore(t *testing.T) {
	s := newServer(t)
	const key = "test-submit-000000001"
	first, b1 := keyedCall(t, s, "user:alice", key, "POST", "/v1/requests", wireHealth())
	again, b2 := keyedCall(t, s, "user:alice", key, "POST", "/v1/requests", wireHealth())
	if first.StatusCode != http.StatusCreated || again.StatusCode != http.StatusCreated {
		t.Fatalf("statuses %d, %d; want 201 twice\n%s\n%s", first.StatusCode, again.StatusCode, b1, b2)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("the second answer differs from the first:\n%s\n%s", b1, b2)
	}
	if first.Header.Get(api.ReplayedHeader) != "" || again.Header.Get(api.ReplayedHeader) != "true" {
		t.Errorf("%s: first %q, again %q; want only the second marked", api.ReplayedHeader,
			first.Header.Get(api.ReplayedHeader), again.Header.Get(api.ReplayedHeader))
	}
	reqs, err := s.client(t, "user:alice").List(ctx, true, false)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("alice has %d requests (%v); the call was made twice", len(reqs), err)
	}
}

// A revocation that committed, sent again with its key, answers as the
// first time did, not "grant is not live".
func TestRevokeSentAgainWithItsKeyAnswersTheRevocationNotAConflict(t *testing.T) {
	s := newServer(t)
	grant, err := s.client(t, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/requests/" + grant.ID + "/revoke"
	const key = "test-revoke-000000001"
	first, b1 := keyedCall(t, s, "user:alice", key, "POST", path, wire.Decision{Reason: "done"})
	again, b2 := keyedCall(t, s, "user:alice", key, "POST", path, wire.Decision{Reason: "done"})
	if first.StatusCode != 200 || again.StatusCode != 200 || !bytes.Equal(b1, b2) {
		t.Fatalf("first %d %s\nagain %d %s", first.StatusCode, b1, again.StatusCode, b2)
	}
	unkeyed, b3 := keyedCall(t, s, "user:alice", "", "POST", path, wire.Decision{Reason: "done"})
	if unkeyed.StatusCode != http.StatusConflict || errorCode(t, b3) != "grant_not_live" {
		t.Fatalf("without the key: %d %s; want 409 grant_not_live", unkeyed.StatusCode, b3)
	}
}

// A key names one call: used for another call it is refused (and
// audited); another caller's key of the same name is theirs alone.
func TestIdempotencyKeyReusedForAnotherCallIsRefused(t *testing.T) {
	s := newServer(t)
	const key = "test-reuse-0000000001"
	if resp, b := keyedCall(t, s, "user:alice", key, "POST", "/v1/requests", wireHealth()); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	other := wireHealth()
	other.Resources = []string{"db-2"}
	resp, b := keyedCall(t, s, "user:alice", key, "POST", "/v1/requests", other)
	if resp.StatusCode != http.StatusUnprocessableEntity || errorCode(t, b) != "idempotency_key_reused" {
		t.Fatalf("reused key: %d %s; want 422 idempotency_key_reused", resp.StatusCode, b)
	}
	resp, b = keyedCall(t, s, "user:bob", key, "POST", "/v1/requests", wireHealth())
	if resp.StatusCode != 201 || resp.Header.Get(api.ReplayedHeader) != "" {
		t.Fatalf("bob's call under a key alice used: %d %s; want his own new request", resp.StatusCode, b)
	}
	for _, bad := range []string{"short", strings.Repeat("x", 81), "has space in it ......"} {
		resp, b := keyedCall(t, s, "user:alice", bad, "POST", "/v1/requests", wireHealth())
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("key %q: %d %s; want 400", bad, resp.StatusCode, b)
		}
	}
	recs, err := s.client(t, "user:erin").Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, r := range recs {
		if r.Action == "input.refused" {
			refused++
		}
	}
	if refused != 4 {
		t.Errorf("%d refusals audited, want 4", refused)
	}
}

// An answer that holds a secret (the otpauth URI of an MFA enrolment) is
// kept sealed, and given again in the clear only to its caller.
func TestKeptAnswersAreSealedAtRest(t *testing.T) {
	s := newServer(t)
	const key = "test-enroll-000000001"
	first, b1 := keyedCall(t, s, "user:alice", key, "POST", "/v1/mfa/enroll", wire.MFAEnroll{})
	again, b2 := keyedCall(t, s, "user:alice", key, "POST", "/v1/mfa/enroll", wire.MFAEnroll{})
	if first.StatusCode != 200 || again.StatusCode != 200 || !bytes.Equal(b1, b2) || !bytes.Contains(b1, []byte("otpauth://")) {
		t.Fatalf("first %d %s\nagain %d %s", first.StatusCode, b1, again.StatusCode, b2)
	}
	var a *store.Answer
	if err := s.st.View(ctx, func(tx store.Tx) (err error) { a, err = tx.Answer("user:alice", key); return err }); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(a.Body, []byte("otpauth")) || bytes.Contains(a.Body, []byte("secret")) {
		t.Fatalf("the kept answer is stored in the clear: %q", a.Body)
	}
}

// The kept answer is read with the directory check, and after it: a
// person the directory disabled since gets the refusal, not the answer
// kept for them.
func TestKeptAnswerIsNotGivenToAPersonTheDirectoryDisabled(t *testing.T) {
	s := newServer(t)
	_, path, in := certificateCall(t, s)
	const key = "test-admit-0000000001"
	if resp, b := keyedCall(t, s, "user:alice", key, "POST", path, in); resp.StatusCode != http.StatusOK {
		t.Fatalf("first call: %d %s", resp.StatusCode, b)
	}
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		return tx.PutDirectoryUser(&store.DirectoryUser{ID: "u-alice", UserName: "alice", Active: false})
	}); err != nil {
		t.Fatal(err)
	}
	resp, b := keyedCall(t, s, "user:alice", key, "POST", path, in)
	if resp.StatusCode != http.StatusForbidden || errorCode(t, b) != "deactivated" || resp.Header.Get(api.ReplayedHeader) != "" {
		t.Fatalf("sent again once disabled: %d %s; want 403 deactivated", resp.StatusCode, b)
	}
}

// A certificate call whose grant is found revoked only under its row lock
// (another replica revoked it; this one still holds the grant as its last
// issuance found it) keeps the refusal, not the certificate's answer made
// before the transaction: sent again with its key, it gets the refusal.
func TestCertificateRefusedUnderTheLockKeepsTheRefusal(t *testing.T) {
	s := newServer(t)
	grantID, path, in := certificateCall(t, s)
	if resp, b := keyedCall(t, s, "user:alice", "test-locked-000000001", "POST", path, in); resp.StatusCode != http.StatusOK {
		t.Fatalf("first certificate: %d %s", resp.StatusCode, b)
	}
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		g, err := tx.LockRequest(grantID)
		if err != nil {
			return err
		}
		prev := g.State
		g.State = store.Revoked
		return tx.UpdateRequest(g, prev)
	}); err != nil {
		t.Fatal(err)
	}
	const key = "test-locked-000000002"
	first, b1 := keyedCall(t, s, "user:alice", key, "POST", path, in)
	again, b2 := keyedCall(t, s, "user:alice", key, "POST", path, in)
	if first.StatusCode == http.StatusOK || bytes.Contains(b1, []byte("cert-v01")) {
		t.Fatalf("a grant revoked under the lock: %d %s; want a refusal", first.StatusCode, b1)
	}
	if again.StatusCode != first.StatusCode || !bytes.Equal(b1, b2) || again.Header.Get(api.ReplayedHeader) != "true" {
		t.Fatalf("sent again: %d %s (replayed %q); want the kept refusal %d %s",
			again.StatusCode, b2, again.Header.Get(api.ReplayedHeader), first.StatusCode, b1)
	}
}
