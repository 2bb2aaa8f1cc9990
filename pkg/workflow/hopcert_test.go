package workflow_test

import (
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// A hop certificate opens one login, right after it is issued (sshd checks
// a certificate at authentication only): it lasts the few minutes that
// login needs, never the rest of the grant, so a leaked hop key is worth
// nothing after the login. Its start keeps the skew allowance.
func TestHopCertificateLastsOnlyTheMinutesALoginNeeds(t *testing.T) {
	bastion := workflow.BastionActor("bastion-1")
	validity := func(t *testing.T, e *env, svc *workflow.Service, id string) (time.Time, time.Time) {
		t.Helper()
		cert, err := svc.IssueHopCert(ctx, bastion, id, "db-1", newPublicKey(t))
		if err != nil {
			t.Fatal(err)
		}
		f := fields(cert)
		return f.ValidAfter, f.ValidBefore
	}
	t.Run("five minutes by default", func(t *testing.T) {
		e := newEnv(t, nil)
		r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
		e.clock.Advance(10 * time.Minute)
		now := e.clock.Now()
		from, to := validity(t, e, e.svc, r.ID)
		if !from.Equal(now.Add(-time.Minute)) || !to.Equal(now.Add(workflow.DefaultHopTTL)) || workflow.DefaultHopTTL != 5*time.Minute {
			t.Fatalf("valid %v..%v, want %v..%v", from, to, now.Add(-time.Minute), now.Add(5*time.Minute))
		}
	})
	t.Run("as configured", func(t *testing.T) {
		e := newEnv(t, nil)
		svc := e.serviceWith(e.st, func(c *workflow.Config) { c.HopTTL = 30 * time.Second })
		r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
		now := e.clock.Now()
		if _, to := validity(t, e, svc, r.ID); !to.Equal(now.Add(30 * time.Second)) {
			t.Fatalf("valid until %v, want %v", to, now.Add(30*time.Second))
		}
	})
	t.Run("never past the grant's end", func(t *testing.T) {
		e := newEnv(t, nil)
		r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
		e.clock.Advance(time.Hour - 2*time.Minute)
		if _, to := validity(t, e, e.svc, r.ID); !to.Equal(r.NotAfter) {
			t.Fatalf("valid until %v, want the grant's end %v", to, r.NotAfter)
		}
	})
}

func TestHopTTLOutsideOneSecondToOneHourIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, ttl := range []time.Duration{-time.Second, 500 * time.Millisecond, time.Hour + time.Second, 24 * time.Hour} {
		cfg := workflow.Config{Store: e.st, Policy: e.holder, UserCA: e.cas.user, HopCA: e.cas.hop, Secrets: box, HopTTL: ttl}
		if _, err := workflow.New(cfg); err == nil {
			t.Errorf("HopTTL %v accepted", ttl)
		}
	}
	for _, ttl := range []time.Duration{time.Second, time.Hour} {
		cfg := workflow.Config{Store: e.st, Policy: e.holder, UserCA: e.cas.user, HopCA: e.cas.hop, Secrets: box, HopTTL: ttl}
		if _, err := workflow.New(cfg); err != nil {
			t.Errorf("HopTTL %v refused: %v", ttl, err)
		}
	}
}
