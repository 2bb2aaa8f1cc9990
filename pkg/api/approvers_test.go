package api_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// GET /v1/requests/{id} and the pending list name who can satisfy each
// outstanding requirement ("you" for the caller), what the grant allows
// with its marks, and the window if approved now.
func TestRequestNamesApproversAndWhatItGrantsThroughTheAPI(t *testing.T) {
	s := newServer(t)
	alice, carol, frank := s.client(t, "user:alice"), s.client(t, "user:carol"), s.client(t, "user:frank")
	req, err := alice.Submit(ctx, wire.SubmitRequest{Role: "admin", Resources: []string{"db-1"}, Duration: "1h", Reason: "disk full", Ticket: "INC-1"})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	got, err := frank.Get(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	want := []wire.Need{
		{Count: 1, Label: "managers of storage", Of: []string{"carol"}, Managers: true},
		{Count: 1, Label: "group security", Of: []string{"frank"}, Group: "security", You: true},
	}
	if diff := cmp.Diff(want, got.Needs); diff != "" || !got.CanApprove {
		t.Errorf("needs seen by frank (-want +got):\n%s; can approve %v", diff, got.CanApprove)
	}
	wantAllows := &wire.Allows{
		Role: wire.Role{Name: "admin", Description: "Root shell for incident response", Login: "root", Interactive: true,
			AllowedCommands: []string{}, MaxDuration: "2h0m0s"},
		Resources: []wire.Resource{{Name: "db-1", Description: "Primary storage database", Tags: []string{"storage", "prod"}}},
		Marks:     []string{"root_login", "interactive"},
	}
	if diff := cmp.Diff(wantAllows, got.Allows); diff != "" {
		t.Errorf("allows (-want +got):\n%s", diff)
	}
	w := got.Window
	if w == nil || !w.IfApprovedNow || w.NotBefore.Before(before.Truncate(time.Second)) || w.NotBefore.After(after) ||
		w.NotAfter.Sub(w.NotBefore) != time.Hour {
		t.Fatalf("window %+v, want [now, now+1h) if approved now (asked between %s and %s)", w, before, after)
	}

	if _, err := carol.Approve(ctx, req.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	list, err := carol.List(ctx, false, true)
	if err != nil || len(list) != 1 {
		t.Fatalf("carol's pending list: %v %v", list, err)
	}
	if diff := cmp.Diff(want[1:2], list[0].Needs, cmp.Transformer("notYou", func(n wire.Need) wire.Need { n.You = false; return n })); diff != "" ||
		list[0].Needs[0].You || list[0].CanApprove {
		t.Errorf("after approving, carol's list (-want +got):\n%s; you %v, can approve %v", diff, list[0].Needs[0].You, list[0].CanApprove)
	}
}

// The JSON names are the contract.
func TestRequestJSONNamesOfTheApprovalLoop(t *testing.T) {
	r := wire.Request{
		Needs:  []wire.Need{{Count: 1, Label: "group security", Of: []string{"frank"}, Group: "security", You: true}},
		Allows: &wire.Allows{Role: wire.Role{Name: "admin", Description: "x", Login: "root", Interactive: true, AllowedCommands: []string{}, MaxDuration: "2h0m0s", ForceCommand: "/x"}, Resources: []wire.Resource{{Name: "db-1", Description: "d", Tags: []string{"t"}, OwnApproval: true}}, Marks: []string{"root_login"}},
		Window: &wire.Window{NotBefore: time.Unix(0, 0).UTC(), NotAfter: time.Unix(3600, 0).UTC(), IfApprovedNow: true},
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	keys := func(v any) []string {
		var out []string
		for k := range v.(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		what string
		v    any
		want []string
	}{
		{"needs", m["needs"].([]any)[0], []string{"count", "group", "label", "of", "you"}},
		{"allows", m["allows"], []string{"marks", "resources", "role"}},
		{"allows.role", m["allows"].(map[string]any)["role"], []string{"allowed_commands", "description", "force_command", "interactive", "login", "max_duration", "name"}},
		{"allows.resources", m["allows"].(map[string]any)["resources"].([]any)[0], []string{"description", "name", "own_approval", "tags"}},
		{"window", m["window"], []string{"if_approved_now", "not_after", "not_before"}},
	} {
		if diff := cmp.Diff(c.want, keys(c.v)); diff != "" {
			t.Errorf("%s fields (-want +got):\n%s", c.what, diff)
		}
	}
}
