package workflow_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// needLine is what a reader sees of a need: "1 of carol: managers of
// storage", and whether it is theirs to give.
type needLine struct {
	Count int
	Of    []string
	Label string
	You   bool
}

func needLines(v *workflow.RequestView) []needLine {
	var out []needLine
	for _, n := range v.Needs {
		out = append(out, needLine{n.Count, n.Of, n.Label, n.You})
	}
	return out
}

// The request names who can satisfy each outstanding requirement, marks
// the reader where they can, and drops what approvals already met; the
// requester and someone who approved already are never "you".
func TestRequestNamesWhoCanApproveAndMarksTheReader(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	mgr := needLine{1, []string{"carol"}, "managers of storage", false}
	sec := needLine{1, []string{"frank"}, "group security", false}
	you := func(n needLine) needLine { n.You = true; return n }
	tests := []struct {
		reader     string
		want       []needLine
		canApprove bool
	}{
		{"carol", []needLine{you(mgr), sec}, true},
		{"frank", []needLine{mgr, you(sec)}, true},
		{"alice", []needLine{mgr, sec}, false}, // the requester
		{"erin", []needLine{mgr, sec}, false},  // an auditor, no approver
	}
	for _, tt := range tests {
		v, err := e.svc.Get(ctx, user(tt.reader), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, needLines(v)); diff != "" || v.CanApprove != tt.canApprove {
			t.Errorf("%s reads (-want +got):\n%s; can approve %v, want %v", tt.reader, diff, v.CanApprove, tt.canApprove)
		}
	}
	e.approve("carol", r.ID)
	for _, reader := range []string{"carol", "frank"} {
		v, err := e.svc.Get(ctx, user(reader), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []needLine{sec}
		if reader == "frank" {
			want = []needLine{you(sec)}
		}
		if diff := cmp.Diff(want, needLines(v)); diff != "" || v.CanApprove != (reader == "frank") {
			t.Errorf("after carol's approval %s reads (-want +got):\n%s; can approve %v", reader, diff, v.CanApprove)
		}
		if len(v.Approvals) != 1 || v.Approvals[0].Approver != "carol" {
			t.Errorf("approvals given: %+v", v.Approvals)
		}
	}
	// The list says the same as the request.
	list, err := e.svc.List(ctx, user("frank"), workflow.ListFilter{Pending: true})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if diff := cmp.Diff([]needLine{you(sec)}, needLines(list[0])); diff != "" {
		t.Errorf("the pending list (-want +got):\n%s", diff)
	}
}

// An approver whose yes would add nothing (the requirement they belong
// to is met) is not offered the request: it does not wait for them.
func TestApproverWhoseYesWouldAddNothingIsNotAsked(t *testing.T) {
	e := newEnv(t, nil)
	e.changePolicy(func(p *policy.Policy) {
		p.Teams["storage"].Managers = []string{"carol", "dave"}
	})
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	v, err := e.svc.Get(ctx, user("dave"), r.ID)
	if err != nil || !v.CanApprove || !v.Needs[0].You {
		t.Fatalf("before carol approves, dave reads %+v (%v)", v, err)
	}
	e.approve("carol", r.ID)
	v, err = e.svc.Get(ctx, user("dave"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.CanApprove || len(v.Needs) != 1 || v.Needs[0].You {
		t.Fatalf("after carol approved, dave (another manager) reads can approve %v, needs %+v", v.CanApprove, v.Needs)
	}
	if n, err := e.svc.WaitingFor(ctx, user("dave")); err != nil || n != 0 {
		t.Fatalf("waiting for dave: %d, %v; want 0", n, err)
	}
}

// The request shows what the grant allows, under the current policy, and
// the exact window it would have if approved now: from now for the
// duration asked, moving with the clock; approving at that moment gives
// that very window.
func TestRequestShowsWhatIsGrantedAndTheWindowIfApprovedNow(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "admin", []string{"db-1", "customer-db"}, 90*time.Minute, "INC-7")
	e.clock.Advance(10 * time.Minute)
	now := e.clock.Now()
	v, err := e.svc.Get(ctx, user("frank"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Allows == nil || v.Allows.Role == nil || v.Allows.Role.Login != "root" || !v.Allows.Role.Interactive || v.Allows.Role.MaxDuration != 2*time.Hour {
		t.Fatalf("allows %+v", v.Allows)
	}
	if diff := cmp.Diff([]policy.Mark{policy.MarkRootLogin, policy.MarkInteractive, policy.MarkCustomerData}, v.Allows.Marks); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
	if len(v.Allows.Resources) != 2 || v.Allows.Resources[1].Description != "Contoso tenant database" {
		t.Errorf("resources %+v", v.Allows.Resources)
	}
	want := workflow.Window{NotBefore: now, NotAfter: now.Add(90 * time.Minute), IfApprovedNow: true}
	if v.Window == nil || *v.Window != want {
		t.Fatalf("window %+v, want %+v", v.Window, want)
	}
	for _, who := range []string{"carol", "frank", "grace"} {
		e.approve(who, r.ID)
	}
	got := e.request(r.ID)
	if got.State != store.Approved || !got.NotBefore.Equal(want.NotBefore) || !got.NotAfter.Equal(want.NotAfter) {
		t.Fatalf("approved at the moment shown, the grant has %s – %s, the page said %s – %s",
			got.NotBefore, got.NotAfter, want.NotBefore, want.NotAfter)
	}
	e.clock.Advance(time.Minute)
	v, err = e.svc.Get(ctx, user("alice"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want.IfApprovedNow = false
	if v.Window == nil || *v.Window != want || v.Allows == nil || len(v.Needs) != 0 {
		t.Fatalf("the grant shows window %+v (want %+v), allows %+v, needs %+v", v.Window, want, v.Allows, v.Needs)
	}
	// A denied request grants nothing and has no window.
	d := e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	if _, err := e.svc.Deny(ctx, user("carol"), d.ID, "no"); err != nil {
		t.Fatal(err)
	}
	v, err = e.svc.Get(ctx, user("alice"), d.ID)
	if err != nil || v.Window != nil || v.Allows != nil {
		t.Fatalf("denied request shows window %+v, allows %+v (%v)", v.Window, v.Allows, err)
	}
}

// WaitingFor counts the pending requests the reader can still approve:
// not their own, not those they approved already or whose requirements
// they cannot fill, not those the policy no longer allows, not those past
// their deadline. It agrees with the pending list.
func TestWaitingForCountsWhatTheReaderCanStillApprove(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-1")
	e.submit("bob", "reader", []string{"db-2"}, time.Hour, "")
	e.submit("dave", "reader", []string{"web-1"}, time.Hour, "")
	counts := func() map[string]int {
		out := map[string]int{}
		for _, who := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"} {
			n, err := e.svc.WaitingFor(ctx, user(who))
			if err != nil {
				t.Fatal(err)
			}
			list, err := e.svc.List(ctx, user(who), workflow.ListFilter{Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			can := 0
			for _, v := range list {
				if v.CanApprove {
					can++
				}
			}
			if can != n {
				t.Errorf("%s: %d waiting, but the list offers %d", who, n, can)
			}
			if n > 0 {
				out[who] = n
			}
		}
		return out
	}
	if diff := cmp.Diff(map[string]int{"carol": 2, "erin": 1, "frank": 1}, counts()); diff != "" {
		t.Errorf("waiting (-want +got):\n%s", diff)
	}
	e.approve("carol", admin.ID)
	if diff := cmp.Diff(map[string]int{"carol": 1, "erin": 1, "frank": 1}, counts()); diff != "" {
		t.Errorf("after carol approved the admin request (-want +got):\n%s", diff)
	}
	e.changePolicy(func(p *policy.Policy) { p.Roles["reader"].MaxDuration = 30 * time.Minute })
	if diff := cmp.Diff(map[string]int{"frank": 1}, counts()); diff != "" {
		t.Errorf("once reader allows 30m only (-want +got):\n%s", diff)
	}
	e.clock.Advance(time.Hour) // the pending timeout
	if diff := cmp.Diff(map[string]int{}, counts(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("past the deadline (-want +got):\n%s", diff)
	}
	if n, err := e.svc.WaitingFor(ctx, "bastion:bastion-1"); err != nil || n != 0 {
		t.Errorf("a bastion has %d waiting (%v)", n, err)
	}
}
