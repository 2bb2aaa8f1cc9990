package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Only registered bastions report refusals; what they report lands in the
// audit log.
func TestBastionRefusalsReachTheAuditLog(t *testing.T) {
	s := newServer(t)
	now := time.Now()
	report := wire.BastionRefusals{
		Refusals: []wire.BastionRefusal{{Kind: wire.RefusedLogin, Time: now, User: "alice", RequestID: "req-aaaaaaaaaaaaaaaa",
			ClientAddr: "192.0.2.7", Reason: "this certificate ended at 2030-01-01T00:00:00Z"}},
		Counts: []wire.RefusalCount{{Source: "198.51.100.9", Reason: "not a Lockbox certificate", Count: 3, First: now, Last: now}},
	}
	err := s.client(t, "user:alice").ReportRefusals(ctx, report)
	wantCode(t, err, http.StatusForbidden, "not_a_bastion")
	if err := s.client(t, "bastion:bastion-1").ReportRefusals(ctx, report); err != nil {
		t.Fatal(err)
	}
	recs, err := s.wf.AuditLog(ctx, workflow.UserActor("erin"), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Actor == "bastion:bastion-1" {
			got = append(got, r.Action+" "+r.Subject)
		}
	}
	if len(got) != 2 || got[0] != "login.refused req-aaaaaaaaaaaaaaaa" || got[1] != "connection.refused 198.51.100.9" {
		t.Fatalf("audit rows by the bastion: %q", got)
	}
}

// The check before the code answers 204 for a session that could start,
// and the refusal's code otherwise; only bastions may ask.
func TestSessionCheckThroughTheAPI(t *testing.T) {
	s := newServer(t)
	req, err := s.client(t, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		t.Fatal(err)
	}
	in := wire.SessionCheck{RequestID: req.ID, Resource: "db-1", User: "alice", ClientAddr: "192.0.2.1"}
	b := s.client(t, "bastion:bastion-1")
	if err := b.CheckSession(ctx, in); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.client(t, "user:alice").CheckSession(ctx, in), http.StatusForbidden, "not_a_bastion")
	if _, err := s.client(t, "user:erin").Revoke(ctx, req.ID, "done"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.CheckSession(ctx, in), http.StatusConflict, "grant_not_live")
}
