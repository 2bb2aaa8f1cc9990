package workflow_test

import (
	"errors"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// A refused code says so once, in words for the person ("wrong or reused
// MFA code", not "…: totp: invalid code"); the cause stays for errors.Is.
func TestARefusedCodeSaysSoOnce(t *testing.T) {
	e := newEnv(t, nil)
	uri, err := e.svc.EnrollMFA(ctx, user("alice"), "")
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.CheckMFA(ctx, bastion, "alice", "000000", "192.0.2.1")
	if err == nil || err.Error() != workflow.ErrMFACode.Error() || !errors.Is(err, workflow.ErrMFACode) || !errors.Is(err, totp.ErrInvalid) {
		t.Fatalf("a wrong code: %v", err)
	}
	good := codeFromURI(t, uri, e.clock.Now())
	if err := e.svc.CheckMFA(ctx, bastion, "alice", good, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	err = e.svc.CheckMFA(ctx, bastion, "alice", good, "192.0.2.1")
	if err == nil || err.Error() != workflow.ErrMFACode.Error() || !errors.Is(err, totp.ErrReused) {
		t.Fatalf("a reused code: %v", err)
	}
}
