package policy

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestNeedsNameWhoCanSatisfyEachOutstandingRequirement reads the example
// policy as an approver would: alice's admin request needs a manager of
// her team (carol) and someone from security (frank).
func TestNeedsNameWhoCanSatisfyEachOutstandingRequirement(t *testing.T) {
	p := examplePolicy(t, nil)
	reqs, _ := p.Requirements("admin", []string{"db-1"})
	mgr := Need{Requirement: Requirement{Managers: true, Count: 1}, Label: "managers of storage", Of: []string{"carol"}}
	sec := Need{Requirement: Requirement{Group: "security", Count: 1}, Label: "group security", Of: []string{"frank"}}
	tests := []struct {
		name      string
		approvers []string
		want      []Need
	}{
		{"nobody approved yet", nil, []Need{mgr, sec}},
		{"the manager approved: only security is left", []string{"carol"}, []Need{sec}},
		{"security approved: only the manager is left", []string{"frank"}, []Need{mgr}},
		{"both approved: nothing is left", []string{"carol", "frank"}, nil},
		{"an approval from outside the rule changes nothing", []string{"dave"}, []Need{mgr, sec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Needs("alice", reqs, tt.approvers)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Needs (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a resource's own rule is named with its group", func(t *testing.T) {
		reqs, _ := p.Requirements("reader", []string{"customer-db"})
		want := []Need{
			{Requirement: Requirement{Managers: true, Count: 1}, Label: "managers of storage", Of: []string{"carol"}},
			{Requirement: Requirement{Group: "contoso-admins", Count: 1}, Label: "group contoso-admins", Of: []string{"grace"}},
		}
		if diff := cmp.Diff(want, p.Needs("bob", reqs, nil)); diff != "" {
			t.Errorf("Needs (-want +got):\n%s", diff)
		}
	})
}

// TestNeedsLeaveOutTheRequesterAndWhoApprovedAlready: neither can give
// another approval, so neither is named.
func TestNeedsLeaveOutTheRequesterAndWhoApprovedAlready(t *testing.T) {
	p := approvalPolicy()
	reqs := []Requirement{{Group: "security", Count: 2}}
	got := p.Needs("req", reqs, []string{"sec1"})
	want := []Need{{Requirement: Requirement{Group: "security", Count: 1}, Label: "group security",
		Of: []string{"mgr", "sec2", "x", "y"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Needs (-want +got):\n%s", diff)
	}
}

// TestNeedsNameWhoseApprovalLetsAnEarlierOneMove: x (security and
// contoso) approved and holds the security slot; sec1 cannot fill contoso
// but their approval lets x count for contoso instead, so sec1 can satisfy
// what is left. Outstanding and Needs agree on what is left.
func TestNeedsNameWhoseApprovalLetsAnEarlierOneMove(t *testing.T) {
	p := approvalPolicy()
	reqs := []Requirement{{Group: "security", Count: 1}, {Group: "contoso", Count: 1}}
	got := p.Needs("req", reqs, []string{"x"})
	if len(got) != 1 {
		t.Fatalf("Needs = %+v, want one need", got)
	}
	if diff := cmp.Diff(p.Outstanding("req", reqs, []string{"x"}), []Requirement{got[0].Requirement}); diff != "" {
		t.Errorf("Needs and Outstanding disagree (-outstanding +needs):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"mgr", "sec1", "sec2", "y"}, got[0].Of); diff != "" {
		t.Errorf("who can satisfy it (-want +got):\n%s", diff)
	}
	if p.Outstanding("req", reqs, []string{"x", "sec1"}) != nil {
		t.Error("sec1 is named but their approval does not complete the request")
	}
}

// TestNeedsOfManagersNameTheRequestersTeams, and say so when nobody in
// the policy can approve.
func TestNeedsOfManagersNameTheRequestersTeams(t *testing.T) {
	p := approvalPolicy()
	p.Teams["t3"] = &Team{Name: "t3", Members: []string{"req"}, Managers: []string{"mgr2"}}
	p.Teams["t4"] = &Team{Name: "t4", Members: []string{"other"}}
	got := p.Needs("req", []Requirement{{Managers: true, Count: 1}}, nil)
	want := []Need{{Requirement: Requirement{Managers: true, Count: 1}, Label: "managers of t, t3", Of: []string{"mgr", "mgr2"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Needs (-want +got):\n%s", diff)
	}
	got = p.Needs("other", []Requirement{{Managers: true, Count: 1}, {Group: "contoso", Count: 3}}, []string{"x", "y"})
	want = []Need{
		{Requirement: Requirement{Managers: true, Count: 1}, Label: "managers of t2, t4", Of: []string{"mgr2"}},
		{Requirement: Requirement{Group: "contoso", Count: 1}, Label: "group contoso"},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Needs with nobody left to ask (-want +got):\n%s", diff)
	}
}

// TestCanSatisfyAgreesWithNeeds: the single-person check the pending count
// uses names exactly the people Needs names.
func TestCanSatisfyAgreesWithNeeds(t *testing.T) {
	p := approvalPolicy()
	reqs := []Requirement{{Managers: true, Count: 1}, {Group: "contoso", Count: 1}, {Group: "security", Count: 2}}
	for _, approvers := range [][]string{nil, {"x"}, {"mgr"}, {"x", "y"}, {"mgr", "x", "sec1"}, {"req", "ghost"}} {
		named := map[string]bool{}
		for _, n := range p.Needs("req", reqs, approvers) {
			for _, who := range n.Of {
				named[who] = true
			}
		}
		for who := range p.Users {
			if got := p.CanSatisfy(who, "req", reqs, approvers); got != named[who] {
				t.Errorf("approvers %v: CanSatisfy(%s) = %v, Needs names them: %v", approvers, who, got, named[who])
			}
		}
		if p.CanSatisfy("ghost", "req", reqs, approvers) {
			t.Error("someone not in the policy can satisfy a requirement")
		}
	}
}

// FuzzNeeds checks what Needs promises on arbitrary requirements and
// approvals over approvalPolicy's people: the same requirements and counts
// as Outstanding; nobody named who is the requester or approved already;
// everyone named brings the request one approval closer, and nobody left
// out does.
func FuzzNeeds(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{4})
	f.Add([]byte{1, 2, 2, 5}, []byte{4, 0, 7})
	f.Add([]byte{0, 0, 3, 3, 1}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	p := approvalPolicy()
	people := p.sortedUsers()
	people = append(people, "ghost")
	groups := []Requirement{{Managers: true}, {Group: "security"}, {Group: "contoso"}}
	f.Fuzz(func(t *testing.T, ruleBytes, approverBytes []byte) {
		if len(ruleBytes) > 8 || len(approverBytes) > 12 {
			return
		}
		var reqs []Requirement
		for _, b := range ruleBytes {
			r := groups[int(b)%len(groups)]
			r.Count = 1 + int(b/3)%3
			reqs = mergeRequirements(reqs, []Requirement{r})
		}
		var approvers []string
		for _, b := range approverBytes {
			approvers = append(approvers, people[int(b)%len(people)])
		}
		for _, requester := range []string{"req", "other", "mgr"} {
			needs := p.Needs(requester, reqs, approvers)
			outstanding := p.Outstanding(requester, reqs, approvers)
			var fromNeeds []Requirement
			named := map[string]bool{}
			for _, n := range needs {
				fromNeeds = append(fromNeeds, n.Requirement)
				for _, who := range n.Of {
					named[who] = true
				}
			}
			if diff := cmp.Diff(outstanding, fromNeeds, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Needs and Outstanding disagree (-outstanding +needs):\n%s", diff)
			}
			missing := total(outstanding)
			for _, who := range people {
				if named[who] && (who == requester || slices.Contains(approvers, who)) {
					t.Fatalf("%s is named but is the requester or approved already", who)
				}
				closer := total(p.Outstanding(requester, reqs, append(slices.Clone(approvers), who))) < missing
				if named[who] != closer && !slices.Contains(approvers, who) {
					t.Fatalf("requester %s, reqs %+v, approvers %v: %s named %v, but approving brings it closer: %v",
						requester, reqs, approvers, who, named[who], closer)
				}
			}
		}
	})
}

func total(reqs []Requirement) int {
	n := 0
	for _, r := range reqs {
		n += r.Count
	}
	return n
}
