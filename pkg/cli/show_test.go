package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// pendingAdmin is alice's admin request on db-1 and customer-db as frank
// reads it: carol approved, frank and grace are still needed.
func pendingAdmin(now time.Time) wire.Request {
	return wire.Request{
		ID: "req-aaaaaaaaaaaaaaaa", User: "alice", Role: "admin", Resources: []string{"db-1", "customer-db"}, Duration: "1h0m0s",
		Reason: "disk full", Ticket: "INC-1", State: "pending", CreatedAt: now.Add(-time.Minute),
		Approvals: []wire.Approval{{Approver: "carol", Reason: "ok", At: now}},
		Needs: []wire.Need{
			{Count: 1, Label: "group security", Of: []string{"erin", "frank"}, You: true, Group: "security"},
			{Count: 1, Label: "group contoso-admins", Of: []string{"grace"}, Group: "contoso-admins"},
			{Count: 2, Label: "group auditors", Of: []string{}, Group: "auditors"},
		},
		Allows: &wire.Allows{
			Role: wire.Role{Name: "admin", Description: "Root shell", Login: "root", Interactive: true, AllowedCommands: []string{}, MaxDuration: "2h0m0s"},
			Resources: []wire.Resource{{Name: "db-1", Description: "Primary storage database", Tags: []string{"storage", "prod"}},
				{Name: "customer-db", Description: "Contoso tenant database", Tags: []string{"customer"}, OwnApproval: true}},
			Marks: []string{"root_login", "interactive", "customer_data"},
		},
		Window:     &wire.Window{NotBefore: now, NotAfter: now.Add(time.Hour), IfApprovedNow: true},
		CanApprove: true,
	}
}

func testApp(name string) (*app, *bytes.Buffer) {
	var out bytes.Buffer
	return &app{settings: func() Settings { return Settings{User: name} }, out: &out, err: &out}, &out
}

// `lockbox request show` names who can satisfy each outstanding
// requirement with "(you)", the approvals given, what the grant allows
// with its marks, and the window in UTC and relative.
func TestRequestShowNamesApproversAndWhatIsGranted(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a, out := testApp("frank")
	r := pendingAdmin(now)
	a.printRequest(&r, now)
	got := columns(out.String())
	for _, want := range []string{
		"Still needs\t1 of erin, frank (you): group security\n",
		"\t1 of grace: group contoso-admins\n",
		"\t2 more: group auditors (nobody in the policy can give it)\n",
		"Approvals\tcarol at ",
		"Marks\t⚠ root login, ⚠ interactive shell, ⚠ customer data (customer-db)\n",
		"Login\troot\n",
		"Shell\tyes: a shell on a terminal\n",
		"Commands\tany\n",
		"Longest grant\t2h\n",
		"Resources\tdb-1 — Primary storage database (tags: storage, prod)\n",
		"\tcustomer-db — Contoso tenant database (tags: customer) [own approval rule]\n",
		"Window\t2026-12-01 09:00:00 UTC (now) – 2026-12-01 10:00:00 UTC (in 1h), if approved now\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("request show lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// A read-only role shows its commands and force-command; an approved
// grant its own window.
func TestRequestShowListsCommandsAndTheGrantWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a, out := testApp("alice")
	r := wire.Request{ID: "req-bbbbbbbbbbbbbbbb", User: "alice", Role: "reader", Resources: []string{"db-1"}, Duration: "30m0s",
		State: "approved", CreatedAt: now.Add(-time.Hour),
		Allows: &wire.Allows{Role: wire.Role{Name: "reader", Login: "ops", AllowedCommands: []string{"df -h", "uptime"},
			MaxDuration: "4h0m0s", ForceCommand: "/usr/local/bin/lockbox-gate"}, Resources: []wire.Resource{{Name: "db-1"}}, Marks: []string{}},
		Window: &wire.Window{NotBefore: now.Add(-10 * time.Minute), NotAfter: now.Add(20 * time.Minute)}}
	a.printRequest(&r, now)
	got := columns(out.String())
	for _, want := range []string{
		"Shell\tno: commands only\n",
		"Commands\tdf -h\n\tuptime\n",
		"Force command\t/usr/local/bin/lockbox-gate\n",
		"Grant window\t2026-12-01 08:50:00 UTC (10m ago) – 2026-12-01 09:20:00 UTC (in 20m)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("request show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "Marks") {
		t.Errorf("a read-only grant shows marks:\n%s", out)
	}
}

// `lockbox requests --pending` shows each request's approval loop: names
// with "(you)", marks, allowances and the window.
func TestPendingListShowsWhoCanApproveAndWhatIsGranted(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a, out := testApp("frank")
	a.printPending([]wire.Request{pendingAdmin(now)}, now)
	for _, want := range []string{
		"req-aaaaaaaaaaaaaaaa  alice asks for admin on db-1, customer-db for 1h",
		"  ⚠ root login, ⚠ interactive shell, ⚠ customer data (customer-db)\n",
		"  grants: login root, a shell on a terminal, any command\n",
		"  window: 2026-12-01 09:00:00 UTC (now) – 2026-12-01 10:00:00 UTC (in 1h), if approved now\n",
		"  needs:  1 of erin, frank (you): group security\n",
		"          1 of grace: group contoso-admins\n",
		"  approved by: carol\n",
		"  reason: disk full [INC-1]\n",
		"  you can approve: lockbox approve req-aaaaaaaaaaaaaaaa\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the pending list lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// columns turns the gaps tabwriter pads columns with into tabs, so tests
// do not depend on the widest label.
func columns(s string) string { return regexp.MustCompile(` {2,}`).ReplaceAllString(s, "\t") }
