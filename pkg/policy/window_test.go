package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// escalationFiles: role "urgent" needs one manager and escalates to
// security after 30m; resource "tenant-db" needs one of contoso-admins,
// escalates to sre after 2h and waits at most 12h for a decision.
const escalationFiles = `roles:
  - name: urgent
    login: ops
    step_up_mfa: true
    approval:
      require: [{managers: true}]
      escalate_after: 30m
      escalate_to: security
resources:
  - name: tenant-db
    address: 127.0.0.1:2299
    tags: [storage]
    pending_timeout: 12h
    approval:
      require: [{group: contoso-admins}]
      escalate_after: 2h
      escalate_to: sre
teams:
  - name: urgent-team
    members: [alice]
    eligible:
      - roles: [urgent]
        resources: [db-1, tenant-db]
`

func TestParseEscalationPendingTimeoutAndStepUp(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-window.yaml": escalationFiles})
	role := p.Roles["urgent"]
	if !role.StepUpMFA || !p.StepUpMFA("urgent") || p.StepUpMFA("reader") || p.StepUpMFA("nosuchrole") {
		t.Errorf("step_up_mfa: role %v, StepUpMFA(urgent) %v, (reader) %v", role.StepUpMFA, p.StepUpMFA("urgent"), p.StepUpMFA("reader"))
	}
	want := Approval{Require: []Requirement{{Managers: true, Count: 1}}, EscalateAfter: 30 * time.Minute, EscalateTo: "security"}
	if diff := cmp.Diff(want, role.Approval); diff != "" {
		t.Errorf("role approval (-want +got):\n%s", diff)
	}
	res := p.Resources["tenant-db"]
	if res.PendingTimeout != 12*time.Hour || res.Approval.EscalateTo != "sre" || res.Approval.EscalateAfter != 2*time.Hour {
		t.Errorf("resource: pending_timeout %v, escalation %v to %q", res.PendingTimeout, res.Approval.EscalateAfter, res.Approval.EscalateTo)
	}
}

func TestRequirementsCarryTheirRulesEscalation(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-window.yaml": escalationFiles, "zz-merged.yaml": `resources:
  - name: mgr-db
    address: 127.0.0.1:2298
    approval:
      require: [{managers: true, count: 2}]
      escalate_after: 1h
      escalate_to: sre
`})
	mgr := Requirement{Managers: true, Count: 1, EscalateAfter: 30 * time.Minute, EscalateTo: "security"}
	contoso := Requirement{Group: "contoso-admins", Count: 1, EscalateAfter: 2 * time.Hour, EscalateTo: "sre"}
	got, _ := p.Requirements("urgent", []string{"db-1", "tenant-db"})
	if diff := cmp.Diff([]Requirement{mgr, contoso}, got); diff != "" {
		t.Errorf("requirements (-want +got):\n%s", diff)
	}
	// admin asks for managers without escalation; mgr-db asks for two
	// managers escalating to sre: the merged requirement keeps the larger
	// count and does not escalate, since the role's rule does not.
	got, _ = p.Requirements("admin", []string{"mgr-db"})
	want := []Requirement{{Managers: true, Count: 2}, {Group: "security", Count: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged with a rule that does not escalate (-want +got):\n%s", diff)
	}
}

func TestMergedRequirementEscalatesOnlyWhenBothRulesEscalateAlike(t *testing.T) {
	a := Requirement{Managers: true, Count: 1, EscalateAfter: time.Hour, EscalateTo: "sre"}
	same := Requirement{Managers: true, Count: 2, EscalateAfter: 3 * time.Hour, EscalateTo: "sre"}
	other := Requirement{Managers: true, Count: 1, EscalateAfter: time.Hour, EscalateTo: "security"}
	if got := mergeRequirements([]Requirement{a}, []Requirement{same}); !cmp.Equal(got, []Requirement{{Managers: true, Count: 2, EscalateAfter: 3 * time.Hour, EscalateTo: "sre"}}) {
		t.Errorf("same group: %+v, want the later time and the larger count", got)
	}
	if got := mergeRequirements([]Requirement{a}, []Requirement{other}); !cmp.Equal(got, []Requirement{{Managers: true, Count: 1}}) {
		t.Errorf("different groups: %+v, want no escalation", got)
	}
}

// approvalPolicy's sec1 is in security; x is in security and contoso.
func TestEscalatedRequirementAcceptsTheEscalationGroupOnceRecorded(t *testing.T) {
	p := approvalPolicy()
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	mgr := Requirement{Managers: true, Count: 1, EscalateAfter: time.Hour, EscalateTo: "security"}
	tests := []struct {
		name      string
		through   time.Time // when escalations were last recorded
		approvers []string
		want      []Requirement
	}{
		{"before the escalation the group does not count", time.Time{}, []string{"sec1"}, []Requirement{mgr}},
		{"recorded just before it is due, still not", created.Add(time.Hour - time.Second), []string{"sec1"}, []Requirement{mgr}},
		{"recorded when due, the group counts", created.Add(time.Hour), []string{"sec1"}, nil},
		{"the requester never counts, escalated or not", created.Add(2 * time.Hour), []string{"req"}, []Requirement{{Managers: true, Count: 1, EscalateAfter: time.Hour, EscalateTo: "security", Escalated: true}}},
		{"someone outside both does not count", created.Add(2 * time.Hour), []string{"other"}, []Requirement{{Managers: true, Count: 1, EscalateAfter: time.Hour, EscalateTo: "security", Escalated: true}}},
		{"the original approvers still count", created.Add(2 * time.Hour), []string{"mgr"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs := Escalate([]Requirement{mgr}, created, tt.through)
			got := p.Outstanding("req", reqs, tt.approvers)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("outstanding (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscalatedPersonStillCountsOnceAcrossRequirements(t *testing.T) {
	p := approvalPolicy()
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	// Managers escalate to security; security is also asked for. sec1
	// alone fills one of the two, not both.
	reqs := Escalate([]Requirement{
		{Managers: true, Count: 1, EscalateAfter: time.Hour, EscalateTo: "security"},
		{Group: "security", Count: 1},
	}, created, created.Add(time.Hour))
	if got := p.Outstanding("req", reqs, []string{"sec1"}); len(got) != 1 {
		t.Fatalf("one person filled %d of 2 requirements, want 1: outstanding %+v", 2-len(got), got)
	}
	if got := p.Outstanding("req", reqs, []string{"sec1", "sec2"}); len(got) != 0 {
		t.Fatalf("two security members after escalation: outstanding %+v, want none", got)
	}
	if !p.CanApproveAny("sec1", "req", reqs[:1]) || p.CanApproveAny("req", "req", reqs[:1]) {
		t.Error("CanApproveAny: want sec1 (escalation group) yes, the requester no")
	}
}

func TestNextEscalation(t *testing.T) {
	created := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	reqs := []Requirement{
		{Managers: true, Count: 1, EscalateAfter: 2 * time.Hour, EscalateTo: "sre"},
		{Group: "x", Count: 1},
		{Group: "y", Count: 1, EscalateAfter: 30 * time.Minute, EscalateTo: "sre"},
	}
	for _, tt := range []struct {
		after time.Time
		want  time.Time
	}{
		{created, created.Add(30 * time.Minute)},
		{created.Add(30 * time.Minute), created.Add(2 * time.Hour)},
		{created.Add(2 * time.Hour), time.Time{}},
	} {
		got, ok := NextEscalation(reqs, created, tt.after)
		if !got.Equal(tt.want) || ok == tt.want.IsZero() {
			t.Errorf("NextEscalation after %v = %v %v, want %v", tt.after, got, ok, tt.want)
		}
	}
}

func TestPendingTimeoutIsTheShortestOfTheCAsAndEachResources(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-window.yaml": escalationFiles})
	for _, tt := range []struct {
		resources []string
		global    time.Duration
		want      time.Duration
	}{
		{[]string{"db-1"}, 24 * time.Hour, 24 * time.Hour},
		{[]string{"db-1", "tenant-db"}, 24 * time.Hour, 12 * time.Hour},
		{[]string{"tenant-db"}, time.Hour, time.Hour},
		{[]string{"nosuch"}, time.Hour, time.Hour},
	} {
		if got := p.PendingTimeout(tt.resources, tt.global); got != tt.want {
			t.Errorf("PendingTimeout(%v, %v) = %v, want %v", tt.resources, tt.global, got, tt.want)
		}
	}
}

func TestParseWindowErrors(t *testing.T) {
	k := newTestKeys(t)
	role := func(approval string) string {
		return "roles:\n  - name: r2\n    login: ops\n    approval:\n" + approval
	}
	res := func(fields string) string { return "resources:\n  - name: h\n    address: h:22\n" + fields }
	tests := []struct {
		name, file, want string
	}{
		{"escalate_after without escalate_to", role("      require: [{managers: true}]\n      escalate_after: 1h\n"),
			`c.yaml:6: role r2: approval: escalate_after needs escalate_to: GROUP`},
		{"escalate_to without escalate_after", role("      require: [{managers: true}]\n      escalate_to: security\n"),
			`c.yaml:6: role r2: approval: escalate_to needs escalate_after: DURATION`},
		{"dangling escalation group", role("      require: [{managers: true}]\n      escalate_after: 1h\n      escalate_to: nogroup\n"),
			`c.yaml:7: role r2: approval: escalate_to: unknown group "nogroup"`},
		{"bad escalation duration", role("      require: [{managers: true}]\n      escalate_after: soon\n      escalate_to: security\n"),
			`c.yaml:6: role r2: approval: escalate_after: bad duration "soon"`},
		{"negative escalation duration", role("      require: [{managers: true}]\n      escalate_after: -1h\n      escalate_to: security\n"),
			`c.yaml:6: role r2: approval: escalate_after: duration -1h must be positive`},
		{"escalation on an auto rule", role("      auto: true\n      escalate_after: 1h\n      escalate_to: security\n"),
			`c.yaml:6: role r2: approval: escalate_after and escalate_to do not apply to auto: true`},
		{"escalation to a group the rule asks for", role("      require: [{group: security}]\n      escalate_after: 1h\n      escalate_to: security\n"),
			`c.yaml:7: role r2: approval: escalate_to: the rule already asks for group security`},
		{"unknown field beside escalation", role("      require: [{managers: true}]\n      escalate_afetr: 1h\n"),
			`c.yaml:6: role r2: approval: unknown field "escalate_afetr"`},
		{"bad pending timeout", res("    pending_timeout: 12\n"),
			`c.yaml:4: resource h: pending_timeout: bad duration "12"`},
		{"pending timeout over a week", res("    pending_timeout: 200h\n"),
			`c.yaml:4: resource h: pending_timeout: duration 200h is over the limit`},
		{"escalation no earlier than the resource's pending timeout", res("    pending_timeout: 1h\n    approval:\n      require: [{group: security}]\n      escalate_after: 1h\n      escalate_to: security2\ngroups:\n  - name: security2\n"),
			`c.yaml:6: resource h: approval: escalate_after 1h0m0s is not before pending_timeout 1h0m0s, so it would never escalate`},
		{"step_up_mfa not a boolean", "roles:\n  - name: r2\n    login: ops\n    step_up_mfa: please\n    approval: {auto: true}\n",
			`c.yaml:4: role r2: step_up_mfa: expected true or false, found "please"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(k.files(map[string]string{"c.yaml": tt.file}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
