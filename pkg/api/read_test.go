package api_test

import (
	"encoding/json"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// GET /v1/requests/{id} of an approved request names who approved it,
// when, and with what reason.
func TestApprovedRequestShowsItsApprovals(t *testing.T) {
	s := newServer(t)
	alice := s.client(t, "user:alice")
	req, err := alice.Submit(ctx, wire.SubmitRequest{Role: "admin", Resources: []string{"db-1"}, Duration: "1h", Reason: "disk full", Ticket: "INC-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client(t, "user:carol").Approve(ctx, req.ID, "manager ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client(t, "user:frank").Approve(ctx, req.ID, ""); err != nil {
		t.Fatal(err)
	}
	got, err := alice.Get(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "approved" || len(got.Approvals) != 2 {
		t.Fatalf("%s with approvals %+v, want approved with carol's and frank's", got.State, got.Approvals)
	}
	a, b := got.Approvals[0], got.Approvals[1]
	if a.Approver != "carol" || a.Reason != "manager ok" || a.At.IsZero() || b.Approver != "frank" || b.Reason != "" || b.At.Before(a.At) {
		t.Fatalf("approvals %+v", got.Approvals)
	}
	raw, _ := json.Marshal(got)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || string(fields["approvals"]) == "null" {
		t.Fatalf("approvals in JSON: %s", fields["approvals"])
	}
}
