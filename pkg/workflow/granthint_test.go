package workflow_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// An issuance may start from the grant as the last issuance found it,
// but the certificate follows the grant's row as it stands when the
// certificate is recorded: a grant changed by another replica since (a
// shorter window here) gets a certificate of the changed grant, and one
// revoked since gets none.
func TestIssuanceFollowsTheGrantAsStoredNotAsLastIssued(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	if _, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{}); err != nil {
		t.Fatal(err)
	}

	shorter := e.clock.Now().Add(10 * time.Minute).Truncate(time.Second)
	if err := e.st.Update(ctx, func(tx store.Tx) error {
		g, err := tx.LockRequest(r.ID)
		if err != nil {
			return err
		}
		g.NotAfter = shorter
		return tx.UpdateRequest(g, g.State)
	}); err != nil {
		t.Fatal(err)
	}
	cert, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{})
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Unix(int64(cert.ValidBefore), 0).UTC(); !got.Equal(shorter) {
		t.Fatalf("certificate valid before %s; the grant now ends at %s", got, shorter)
	}

	if _, err := e.service(e.st).Revoke(ctx, user("alice"), r.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueUserCert(ctx, user("alice"), r.ID, newPublicKey(t), workflow.StepUp{}); !errors.Is(err, workflow.ErrNotLive) {
		t.Fatalf("issuance for a grant another replica revoked: %v; want ErrNotLive", err)
	}
}
