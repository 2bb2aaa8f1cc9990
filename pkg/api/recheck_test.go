package api_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// What an approver sees over the API when the approval would start a
// grant over the requester's limit, or when the request no longer fits
// the policy after a reload.
func TestApprovalsRefusedByTheCurrentPolicySayWhy(t *testing.T) {
	s := newServer(t)
	alice, carol := s.client(t, "user:alice"), s.client(t, "user:carol")
	submit := func(role string) *wire.Request {
		t.Helper()
		r, err := alice.Submit(ctx, wire.SubmitRequest{Role: role, Resources: []string{"db-1"}, Duration: "1h", Reason: "disk full"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var ids []string
	for range 4 {
		ids = append(ids, submit("reader").ID)
	}
	for _, id := range ids[:3] {
		if r, err := carol.Approve(ctx, id, "ok"); err != nil || r.State != "approved" {
			t.Fatalf("approve %s: %v", id, err)
		}
	}
	_, err := carol.Approve(ctx, ids[3], "ok")
	wantCode(t, err, http.StatusTooManyRequests, "too_many_active")
	if msg := err.(*client.Error).Message; !strings.Contains(msg, "alice has 3 active grants, the limit is 3") {
		t.Fatalf("message %q does not say why", msg)
	}
	if r, err := alice.Get(ctx, ids[3]); err != nil || r.State != "pending" || len(r.Approvals) != 0 {
		t.Fatalf("after the refusal: %+v %v", r, err)
	}

	// A reload takes alice out of her team (the API's keys do not come
	// from the policy in this test).
	p, err := policy.LoadDir(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	p.Teams["storage"].Members = []string{"bob"}
	s.policy.Set(p)
	if _, err := alice.Revoke(ctx, ids[0], "make room"); err != nil {
		t.Fatal(err)
	}
	_, err = carol.Approve(ctx, ids[3], "ok")
	wantCode(t, err, http.StatusForbidden, "out_of_scope")
	if msg := err.(*client.Error).Message; !strings.Contains(msg, "alice is no longer in a team eligible for reader on db-1") {
		t.Fatalf("message %q does not say what changed", msg)
	}
	_, err = alice.Certificate(ctx, ids[1], string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey())))
	wantCode(t, err, http.StatusForbidden, "out_of_scope")
}
