package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Through the real CA and CLI: `lockbox requests --pending` and `lockbox
// request show` name who can satisfy each outstanding requirement and
// mark the caller, show what the grant allows with its marks and the
// window if approved now; --json carries the same in the API's shape.
func TestCLINamesApproversAndShowsWhatIsGranted(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "admin", "--resource", "db-1,customer-db", "--duration", "1h",
		"--reason", "disk full on db-1", "--ticket", "INC-42"))
	pending := c.ok("frank", "requests", "--pending")
	for _, want := range []string{
		id + "  alice asks for admin on db-1, customer-db for 1h",
		"⚠ root login, ⚠ interactive shell, ⚠ customer data (customer-db)",
		"grants: login root, a shell on a terminal, any command",
		"(now) – ", "(in 1h), if approved now",
		"needs:  1 of carol: managers of storage",
		"1 of frank (you): group security",
		"1 of grace: group contoso-admins",
		"you can approve: lockbox approve " + id,
	} {
		if !strings.Contains(pending, want) {
			t.Errorf("frank's requests --pending lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("output:\n%s", pending)
	}

	c.ok("carol", "approve", id, "--reason", "manager: go ahead")
	shown := c.ok("carol", "request", "show", id)
	for _, want := range []string{"1 of frank: group security", "1 of grace: group contoso-admins", "carol at ", "manager: go ahead",
		"Login", "root", "Longest grant", "2h", "Primary storage database (tags: storage, prod)", "[own approval rule]", "if approved now"} {
		if !strings.Contains(shown, want) {
			t.Errorf("carol's request show lacks %q", want)
		}
	}
	if strings.Contains(shown, "(you)") || strings.Contains(shown, "managers of storage") {
		t.Errorf("after approving, carol is still asked:\n%s", shown)
	}
	if t.Failed() {
		t.Fatalf("output:\n%s", shown)
	}

	var list []wire.Request
	if err := json.Unmarshal([]byte(c.ok("grace", "--json", "requests", "--pending")), &list); err != nil || len(list) != 1 {
		t.Fatalf("requests --pending --json: %v %v", list, err)
	}
	r := list[0]
	if len(r.Needs) != 2 || r.Needs[1].Label != "group contoso-admins" || !r.Needs[1].You || r.Needs[0].You || !r.CanApprove {
		t.Errorf("needs for grace: %+v", r.Needs)
	}
	if r.Allows == nil || r.Allows.Role.Login != "root" || strings.Join(r.Allows.Marks, ",") != "root_login,interactive,customer_data" {
		t.Errorf("allows: %+v", r.Allows)
	}
	if w := r.Window; w == nil || !w.IfApprovedNow || w.NotAfter.Sub(w.NotBefore) != time.Hour || time.Since(w.NotBefore) > time.Minute {
		t.Errorf("window: %+v", r.Window)
	}
}
