package workflow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

const office = "192.0.2.1" // one NAT egress for everyone in the office

// enroll enrolls who in TOTP and returns a function giving their current
// code.
func (e *env) enroll(who string) func() string {
	e.t.Helper()
	uri, err := e.svc.EnrollMFA(ctx, user(who), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return func() string { return codeFromURI(e.t, uri, e.clock.Now()) }
}

// Behind one NAT, one person's wrong codes never refuse their neighbours:
// failures count per person, and per person and address.
func TestOnePersonsWrongCodesDoNotBlockTheirNeighbours(t *testing.T) {
	e := newEnv(t, nil)
	bastion := workflow.BastionActor("bastion-1")
	e.enroll("alice")
	bobCode := e.enroll("bob")
	for i := range 30 {
		err := e.svc.CheckMFA(ctx, bastion, "alice", "000000", office)
		if i < 5 {
			requireErr(t, err, workflow.ErrMFACode)
		} else {
			requireErr(t, err, workflow.ErrThrottled)
		}
	}
	if err := e.svc.CheckMFA(ctx, bastion, "bob", bobCode(), office); err != nil {
		t.Fatalf("bob, from the address alice failed from: %v", err)
	}
}

// A person who fails from one address is throttled there first; from
// other addresses they keep a few attempts more, until their failures
// everywhere reach the per-person limit. Throttling, not lockout: once the
// block runs out the right code works.
func TestWrongCodesAreThrottledPerPersonAndPerPersonAndAddress(t *testing.T) {
	e := newEnv(t, nil)
	bastion := workflow.BastionActor("bastion-1")
	code := e.enroll("alice")
	for range 5 {
		requireErr(t, e.svc.CheckMFA(ctx, bastion, "alice", "000000", office), workflow.ErrMFACode)
	}
	requireErr(t, e.svc.CheckMFA(ctx, bastion, "alice", code(), office), workflow.ErrThrottled)
	for i := range 5 { // alice's ten failures in all now block her everywhere
		requireErr(t, e.svc.CheckMFA(ctx, bastion, "alice", "000000", fmt.Sprintf("198.51.100.%d", i+1)), workflow.ErrMFACode)
	}
	requireErr(t, e.svc.CheckMFA(ctx, bastion, "alice", code(), "203.0.113.9"), workflow.ErrThrottled)
	e.clock.Advance(time.Minute)
	if err := e.svc.CheckMFA(ctx, bastion, "alice", code(), "203.0.113.9"); err != nil {
		t.Fatalf("after the block: %v", err)
	}
}

// Callers not yet known (no such person in the policy) are limited per
// address; known people from that address are not.
func TestUnknownCallersAreThrottledPerAddress(t *testing.T) {
	e := newEnv(t, nil)
	bastion := workflow.BastionActor("bastion-1")
	code := e.enroll("alice")
	for i := range 5 {
		requireErr(t, e.svc.CheckMFA(ctx, bastion, fmt.Sprintf("nobody-%d", i), "000000", office), workflow.ErrMFANotEnrolled)
	}
	requireErr(t, e.svc.CheckMFA(ctx, bastion, "nobody-9", "000000", office), workflow.ErrThrottled)
	// The same address written another way is the same address.
	requireErr(t, e.svc.CheckMFA(ctx, bastion, "nobody-9", "000000", "::ffff:"+office), workflow.ErrThrottled)
	if err := e.svc.CheckMFA(ctx, bastion, "alice", code(), office); err != nil {
		t.Fatalf("alice, from the address unknown callers failed from: %v", err)
	}
}
