package review

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func examplePolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.LoadDir(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// opsTeam: dave manages a team without being an auditor.
const opsTeam = `teams:
  - name: ops
    members: [bob, frank]
    managers: [dave]
    eligible:
      - roles: [health]
        resources: [web-1]
`

func examplePolicyWith(t *testing.T, name, text string) *policy.Policy {
	t.Helper()
	files := map[string][]byte{name: []byte(text)}
	paths, _ := filepath.Glob(filepath.Join("..", "..", "policy", "*.yaml"))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = data
	}
	p, err := policy.Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func entry(t *testing.T, r *Report, team, user string) Entry {
	t.Helper()
	for _, e := range r.Entries {
		if e.Team == team && e.User == user {
			return e
		}
	}
	t.Fatalf("no entry for %s in %s", user, team)
	return Entry{}
}

// Each membership lists every role on every resource it lets the person
// request, with when they last requested and used each; something is
// unused when its last session is before the period's start (a session
// right at the start counts as use).
func TestReportSaysWhatEachMembershipAllowsAndWhatWentUnused(t *testing.T) {
	p := examplePolicy(t)
	period := 30 * 24 * time.Hour
	start := now.Add(-period)
	usage := []store.Usage{
		{User: "alice", Role: "reader", Resource: "db-1", LastRequested: start.Add(-time.Hour), LastUsed: start},
		{User: "alice", Role: "admin", Resource: "db-2", LastRequested: now.Add(-time.Hour)}, // asked, never used
		{User: "bob", Role: "reader", Resource: "db-1", LastRequested: start.Add(-2 * time.Hour), LastUsed: start.Add(-time.Nanosecond)},
	}
	decisions := []store.ReviewDecision{
		{User: "bob", Team: "storage", Decision: Remove, Reason: "moved", Reviewer: "carol", At: now},
		{User: "zoe", Team: "storage", Decision: Remove, Reason: "left", Reviewer: "carol", At: now},
	}
	r := Build(p, usage, decisions, Input{Now: now, Unused: period})
	alice, bob := entry(t, r, "storage", "alice"), entry(t, r, "storage", "bob")
	if len(alice.Grants) != 9 { // reader, admin, health on db-1, db-2, customer-db
		t.Fatalf("alice's storage membership gives %d grants, want 9: %+v", len(alice.Grants), alice.Grants)
	}
	var reader, admin Grant
	for _, g := range alice.Grants {
		switch {
		case g.Role == "reader" && g.Resource == "db-1":
			reader = g
		case g.Role == "admin" && g.Resource == "db-2":
			admin = g
		}
	}
	if reader.Unused || !reader.LastUsed.Equal(start) || !admin.Unused || !admin.LastRequested.Equal(now.Add(-time.Hour)) {
		t.Fatalf("alice: reader on db-1 %+v (used at the period's start: not unused), admin on db-2 %+v (never used: unused)", reader, admin)
	}
	if alice.Unused || !bob.Unused || !alice.LastUsed.Equal(start) {
		t.Fatalf("alice unused %v (used at the start), bob unused %v (a nanosecond before)", alice.Unused, bob.Unused)
	}
	if bob.Decision == nil || bob.Decision.Decision != Remove || alice.Decision != nil {
		t.Fatalf("decisions: bob %+v, alice %+v", bob.Decision, alice.Decision)
	}
	if diff := cmp.Diff([]store.ReviewDecision{decisions[1]}, r.Stale); diff != "" {
		t.Fatalf("a decision on a membership the policy lacks is stale (-want +got):\n%s", diff)
	}
	only := Build(p, usage, decisions, Input{Now: now, Unused: period, OnlyUnused: true, Teams: []string{"storage"}})
	var names []string
	for _, e := range only.Entries {
		names = append(names, e.Team+"/"+e.User)
	}
	if diff := cmp.Diff([]string{"storage/bob"}, names); diff != "" {
		t.Fatalf("only unused in storage (-want +got):\n%s", diff)
	}
}

// A manager decides on their own team, an auditor on any; nobody on
// themselves; the decision and reason are checked like any free text.
func TestCheckDecisionAllowsManagersAndAuditorsButNeverOneself(t *testing.T) {
	p := examplePolicyWith(t, "ops.yaml", opsTeam)
	alice := policy.Membership{Team: "storage", User: "alice"}
	for _, tc := range []struct {
		name, reviewer string
		m              policy.Membership
		decision       string
		reason         string
		want           error
	}{
		{"the team's manager", "carol", alice, Keep, "on call", nil},
		{"an auditor of another team", "frank", alice, Remove, "left", nil},
		{"a manager who is not an auditor, on their team", "dave", policy.Membership{Team: "ops", User: "bob"}, Remove, "moved", nil},
		{"a member about another member", "bob", alice, Keep, "ok", ErrNotReviewer},
		{"a manager who is not an auditor, on another team", "dave", alice, Keep, "ok", ErrNotReviewer},
		{"oneself, even as an auditor", "frank", policy.Membership{Team: "ops", User: "frank"}, Keep, "ok", ErrSelfReview},
		{"oneself as a member", "alice", alice, Keep, "ok", ErrSelfReview},
		{"a user not in the team", "carol", policy.Membership{Team: "storage", User: "dave"}, Remove, "x", ErrNoMembership},
		{"no such team", "frank", policy.Membership{Team: "nope", User: "alice"}, Remove, "x", ErrNoMembership},
		{"neither keep nor remove", "carol", alice, "drop", "x", ErrBadDecision},
		{"no reason", "carol", alice, Keep, "  ", ErrBadDecision},
		{"a reason with a control character", "carol", alice, Keep, "ok\x1b[2J", ErrBadDecision},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckDecision(p, tc.reviewer, tc.m, tc.decision, tc.reason)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CheckDecision = %v, want %v", err, tc.want)
			}
		})
	}
	if got := ReviewableTeams(p, "dave"); !cmp.Equal(got, []string{"ops"}) {
		t.Errorf("dave reviews %v, want ops, the team he manages", got)
	}
	if got := ReviewableTeams(p, "frank"); !cmp.Equal(got, []string{"ops", "storage", "web"}) {
		t.Errorf("frank (auditor) reviews %v, want every team", got)
	}
	if got := ReviewableTeams(p, "alice"); got != nil {
		t.Errorf("alice reviews %v, want none", got)
	}
}

// The export holds every standing decision and a patch that removes the
// memberships marked remove that the policy still has.
func TestExportPatchRemovesWhatWasMarked(t *testing.T) {
	p := examplePolicy(t)
	x, err := MakeExport(p, []store.ReviewDecision{
		{User: "alice", Team: "storage", Decision: Keep, Reason: "on call", Reviewer: "carol", At: now},
		{User: "bob", Team: "storage", Decision: Remove, Reason: "moved", Reviewer: "carol", At: now},
		{User: "zoe", Team: "storage", Decision: Remove, Reason: "gone", Reviewer: "carol", At: now},
	}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]policy.Membership{{Team: "storage", User: "bob"}}, x.Removed); diff != "" {
		t.Fatalf("removed (-want +got):\n%s", diff)
	}
	if len(x.Decisions) != 3 || x.Decisions[2].InPolicy || !x.Decisions[1].InPolicy {
		t.Fatalf("decisions %+v", x.Decisions)
	}
	for _, want := range []string{"--- a/teams.yaml\n+++ b/teams.yaml\n", "\n-    members: [alice, bob]\n+    members: [alice]\n"} {
		if !strings.Contains(x.Patch, want) {
			t.Fatalf("patch lacks %q:\n%s", want, x.Patch)
		}
	}
	if strings.Count(x.Patch, "\n-") != 1 || strings.Count(x.Patch, "\n+") != 2 { // +++ header and one line
		t.Fatalf("patch changes more than one line:\n%s", x.Patch)
	}
	none, err := MakeExport(p, nil, nil, now)
	if err != nil || none.Patch != "" || len(none.Removed) != 0 {
		t.Fatalf("nothing decided: %+v, %v", none, err)
	}
}
