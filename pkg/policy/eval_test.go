package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// examplePolicy parses the example policy plus extra files.
func examplePolicy(t *testing.T, extra map[string]string) *Policy {
	t.Helper()
	files := exampleFiles(t)
	for name, text := range extra {
		files[name] = []byte(text)
	}
	p, err := Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// exampleFiles reads the example policy's files, by base name.
func exampleFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	paths, err := filepath.Glob("../../policy/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example policy files: %v", err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = data
	}
	return files
}

func TestCheckRequest(t *testing.T) {
	// dave's extra team lists db-1 by name, to test eligibility by name.
	p := examplePolicy(t, map[string]string{"zz-test.yaml": `teams:
  - name: web-extra
    members: [dave]
    eligible:
      - roles: [reader]
        resources: [db-1]
`})
	ok := Request{User: "alice", Role: "reader", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "disk alert"}
	with := func(change func(r *Request)) Request {
		r := ok
		r.Resources = append([]string(nil), ok.Resources...)
		change(&r)
		return r
	}
	tests := []struct {
		name   string
		req    Request
		counts Counts
		want   error // nil for success
	}{
		{"eligible through a tag", ok, Counts{}, nil},
		{"eligible through a resource name", with(func(r *Request) { r.User = "dave" }), Counts{}, nil},
		{"eligible on several resources", with(func(r *Request) { r.Resources = []string{"db-1", "db-2", "customer-db"} }), Counts{}, nil},
		{"admin with a ticket at the role maximum", with(func(r *Request) { r.Role, r.Ticket, r.Duration = "admin", "INC-42", 2*time.Hour }), Counts{}, nil},
		{"one below each limit", ok, Counts{Active: 2, Pending: 4}, nil},
		{"unknown user", with(func(r *Request) { r.User = "mallory" }), Counts{}, ErrUnknownUser},
		{"unknown role", with(func(r *Request) { r.Role = "god" }), Counts{}, ErrUnknownRole},
		{"no resources", with(func(r *Request) { r.Resources = nil }), Counts{}, ErrNoResources},
		{"unknown resource", with(func(r *Request) { r.Resources = []string{"db-1", "db-9"} }), Counts{}, ErrUnknownResource},
		{"same resource twice", with(func(r *Request) { r.Resources = []string{"db-1", "db-1"} }), Counts{}, ErrDuplicateResource},
		{"resource of another team", with(func(r *Request) { r.Resources = []string{"web-1"} }), Counts{}, ErrOutOfScope},
		{"one resource out of scope spoils the request", with(func(r *Request) { r.Resources = []string{"db-1", "web-1"} }), Counts{}, ErrOutOfScope},
		{"role not listed for the resource", with(func(r *Request) { r.User, r.Role = "dave", "admin" }), Counts{}, ErrOutOfScope},
		{"manager who is not a member", with(func(r *Request) { r.User = "carol" }), Counts{}, ErrOutOfScope},
		{"user in no team", with(func(r *Request) { r.User = "frank" }), Counts{}, ErrOutOfScope},
		{"over the role maximum", with(func(r *Request) { r.Role, r.Ticket, r.Duration = "admin", "INC-42", 2*time.Hour+time.Second }), Counts{}, ErrOverMaxDuration},
		{"over the settings default maximum", with(func(r *Request) { r.Duration = 5 * time.Hour }), Counts{}, ErrOverMaxDuration},
		{"zero duration", with(func(r *Request) { r.Duration = 0 }), Counts{}, ErrBadDuration},
		{"negative duration", with(func(r *Request) { r.Duration = -time.Hour }), Counts{}, ErrBadDuration},
		{"empty reason", with(func(r *Request) { r.Reason = "" }), Counts{}, ErrReasonRequired},
		{"blank reason", with(func(r *Request) { r.Reason = " \t " }), Counts{}, ErrReasonRequired},
		{"reason too long", with(func(r *Request) { r.Reason = strings.Repeat("é", MaxReasonLength+1) }), Counts{}, ErrReasonRequired},
		{"reason of maximum length", with(func(r *Request) { r.Reason = strings.Repeat("é", MaxReasonLength) }), Counts{}, nil},
		{"reason with an escape sequence", with(func(r *Request) { r.Reason = "fix \x1b]52;c;bad\x07" }), Counts{}, ErrReasonRequired},
		{"reason with a newline", with(func(r *Request) { r.Reason = "line one\nline two" }), Counts{}, ErrReasonRequired},
		{"reason with a bidi override", with(func(r *Request) { r.Reason = "fix \u202e" }), Counts{}, ErrReasonRequired},
		{"reason not UTF-8", with(func(r *Request) { r.Reason = "fix \xff" }), Counts{}, ErrReasonRequired},
		{"role that needs a ticket", with(func(r *Request) { r.Role = "admin" }), Counts{}, ErrTicketRequired},
		{"ticket with a space", with(func(r *Request) { r.Ticket = "INC 42" }), Counts{}, ErrBadTicket},
		{"ticket with a control character", with(func(r *Request) { r.Ticket = "INC-42\x1b" }), Counts{}, ErrBadTicket},
		{"ticket too long", with(func(r *Request) { r.Ticket = strings.Repeat("x", MaxTicketLength+1) }), Counts{}, ErrBadTicket},
		{"too many pending", ok, Counts{Pending: 5}, ErrTooManyPending},
		{"too many active", ok, Counts{Active: 3}, ErrTooManyActive},
		{"unknown user is reported before the rest", Request{User: "mallory", Role: "god"}, Counts{Active: 9}, ErrUnknownUser},
		{"eligibility is checked before duration", with(func(r *Request) { r.Resources, r.Duration = []string{"web-1"}, 0 }), Counts{}, ErrOutOfScope},
		{"pending is checked before active", ok, Counts{Active: 3, Pending: 5}, ErrTooManyPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckRequest(tt.req, tt.counts, time.Now())
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CheckRequest = %v, want %v", err, tt.want)
			}
			if err != nil && err.Error() == tt.want.Error() {
				t.Errorf("error %q does not say what was wrong", err)
			}
		})
	}
}

func TestOutOfScopeNamesWhoWhatWhere(t *testing.T) {
	p := examplePolicy(t, nil)
	err := p.CheckRequest(Request{User: "alice", Role: "admin", Resources: []string{"web-1"}, Duration: time.Hour, Reason: "x", Ticket: "T-1"}, Counts{}, time.Now())
	if want := "out of scope: alice may not request admin on web-1"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestRequirements(t *testing.T) {
	p := examplePolicy(t, map[string]string{"zz-test.yaml": `roles:
  - name: pair
    login: ops
    approval:
      require: [{group: security, count: 1}, {group: sre, count: 2}]
resources:
  - name: vault
    address: 127.0.0.1:2299
    approval:
      require: [{group: security, count: 2}, {managers: true}]
`})
	mgr := Requirement{Managers: true, Count: 1}
	sec := Requirement{Group: "security", Count: 1}
	contoso := Requirement{Group: "contoso-admins", Count: 1}
	tests := []struct {
		name      string
		role      string
		resources []string
		want      []Requirement
		wantAuto  bool
	}{
		{"role rule only", "reader", []string{"db-1", "db-2"}, []Requirement{mgr}, false},
		{"two requirements of the role", "admin", []string{"db-1"}, []Requirement{mgr, sec}, false},
		{"resource adds its rule", "reader", []string{"db-1", "customer-db"}, []Requirement{mgr, contoso}, false},
		{"auto role on plain resources", "health", []string{"db-1"}, nil, true},
		{"auto role on a customer resource is not auto", "health", []string{"customer-db"}, []Requirement{contoso}, false},
		{"same approvers merge with the larger count", "pair", []string{"vault"},
			[]Requirement{{Group: "security", Count: 2}, {Group: "sre", Count: 2}, mgr}, false},
		{"unknown role requires nothing and is not auto", "god", []string{"db-1"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, auto := p.Requirements(tt.role, tt.resources)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requirements (-want +got):\n%s", diff)
			}
			if auto != tt.wantAuto {
				t.Errorf("auto = %v, want %v", auto, tt.wantAuto)
			}
		})
	}
	t.Run("result does not alias the policy", func(t *testing.T) {
		got, _ := p.Requirements("admin", []string{"db-1"})
		got[0].Count = 99
		if again, _ := p.Requirements("admin", []string{"db-1"}); again[0].Count != 1 {
			t.Error("changing the result changed the policy")
		}
	})
}

// approvalPolicy: req is in team t managed by mgr, who is also in security;
// sec1 and sec2 are in security; x and y are in security and contoso.
func approvalPolicy() *Policy {
	users := map[string]*User{}
	for name, groups := range map[string][]string{
		"req": {"security"}, "mgr": {"security"}, "sec1": {"security"}, "sec2": {"security"},
		"x": {"security", "contoso"}, "y": {"security", "contoso"}, "other": nil, "mgr2": nil,
	} {
		users[name] = &User{Name: name, Groups: groups}
	}
	return &Policy{
		Users:  users,
		Groups: map[string]*Group{"security": {Name: "security"}, "contoso": {Name: "contoso"}},
		Teams: map[string]*Team{
			"t":  {Name: "t", Members: []string{"req"}, Managers: []string{"mgr"}},
			"t2": {Name: "t2", Members: []string{"other"}, Managers: []string{"mgr2"}},
		},
	}
}

func TestOutstanding(t *testing.T) {
	p := approvalPolicy()
	mgr := Requirement{Managers: true, Count: 1}
	sec := func(n int) Requirement { return Requirement{Group: "security", Count: n} }
	contoso := Requirement{Group: "contoso", Count: 1}
	tests := []struct {
		name      string
		reqs      []Requirement
		approvers []string
		want      []Requirement
	}{
		{"nobody yet", []Requirement{mgr, sec(1)}, nil, []Requirement{mgr, sec(1)}},
		{"one person in two groups counts once", []Requirement{mgr, sec(1)}, []string{"mgr"}, []Requirement{sec(1)}},
		{"manager and security approver satisfy both", []Requirement{mgr, sec(1)}, []string{"mgr", "sec1"}, nil},
		{"order of approvers does not matter", []Requirement{sec(1), mgr}, []string{"mgr", "sec1"}, nil},
		{"two people in both groups satisfy both", []Requirement{sec(1), contoso}, []string{"x", "y"}, nil},
		{"one person in both groups fills one slot", []Requirement{sec(1), contoso}, []string{"x"}, []Requirement{contoso}},
		{"count needs distinct people", []Requirement{sec(2)}, []string{"sec1", "sec1"}, []Requirement{sec(1)}},
		{"count met by two people", []Requirement{sec(2)}, []string{"sec1", "sec2"}, nil},
		{"requester never counts", []Requirement{sec(1)}, []string{"req"}, []Requirement{sec(1)}},
		{"unknown approver is ignored", []Requirement{sec(1)}, []string{"ghost"}, []Requirement{sec(1)}},
		{"manager of another team does not count", []Requirement{mgr}, []string{"mgr2"}, []Requirement{mgr}},
		{"approver outside every group does not count", []Requirement{sec(1)}, []string{"other"}, []Requirement{sec(1)}},
		{"nothing required is satisfied", nil, nil, nil},
		{"extra approvers are harmless", []Requirement{mgr}, []string{"mgr", "sec1", "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Outstanding("req", tt.reqs, tt.approvers)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("outstanding (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutstandingFindsAugmentingPath needs an earlier approver to move: x
// first takes the security slot, and must move to contoso for sec1.
func TestOutstandingFindsAugmentingPath(t *testing.T) {
	p := approvalPolicy()
	reqs := []Requirement{{Group: "security", Count: 1}, {Group: "contoso", Count: 1}}
	if got := p.Outstanding("req", reqs, []string{"x", "sec1"}); len(got) != 0 {
		t.Errorf("outstanding = %v, want none", got)
	}
}

func TestCheckApprover(t *testing.T) {
	p := approvalPolicy()
	reqs := []Requirement{{Managers: true, Count: 1}, {Group: "contoso", Count: 1}}
	tests := []struct {
		name, requester, approver string
		want                      error
	}{
		{"manager may approve", "req", "mgr", nil},
		{"group member may approve", "req", "x", nil},
		{"self-approval is refused first, even for an unknown user", "ghost", "ghost", ErrSelfApproval},
		{"self-approval by someone who could otherwise approve", "mgr", "mgr", ErrSelfApproval},
		{"unknown approver", "req", "ghost", ErrUnknownUser},
		{"not in any required group", "req", "sec1", ErrNotApprover},
		{"manager of another team", "req", "mgr2", ErrNotApprover},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckApprover(tt.requester, tt.approver, reqs)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("CheckApprover = %v, want %v", err, tt.want)
			}
		})
	}
	if p.CanApproveAny("mgr", "req", nil) {
		t.Error("CanApproveAny with no requirements = true")
	}
}

func TestApprovers(t *testing.T) {
	p := approvalPolicy()
	got := p.Approvers("req", []Requirement{{Managers: true, Count: 1}, {Group: "contoso", Count: 1}})
	if diff := cmp.Diff([]string{"mgr", "x", "y"}, got); diff != "" {
		t.Errorf("Approvers (-want +got):\n%s", diff)
	}
}

func TestLookups(t *testing.T) {
	p := examplePolicy(t, nil)
	if p.UserKeys("alice") == nil || p.UserKeys("nobody") != nil {
		t.Error("UserKeys: want keys for alice, nil for an unknown user")
	}
	if p.BastionKeys("bastion-1") == nil || p.BastionKeys("alice") != nil {
		t.Error("BastionKeys: want keys for bastion-1, nil for a user")
	}
	if !p.InGroup("frank", "security") || p.InGroup("alice", "security") || p.InGroup("frank", "nogroup") {
		t.Error("InGroup wrong")
	}
	if !p.IsAuditor("erin") || !p.IsAuditor("frank") || p.IsAuditor("alice") {
		t.Error("IsAuditor: want erin (sre) and frank (security), not alice")
	}
	if got := p.ManagersOf("carol"); len(got) != 0 {
		t.Errorf("ManagersOf(carol), a manager only, = %v, want none", got)
	}
	want := []string{"customer-db", "db-1", "db-2"}
	if diff := cmp.Diff(want, p.EligibleResources("alice", "reader", time.Now())); diff != "" {
		t.Errorf("EligibleResources (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"grace"}, p.Groups["contoso-admins"].Members); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
}
