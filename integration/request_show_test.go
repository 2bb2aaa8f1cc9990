package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// `lockbox request show ID` tells who approved, when, and with what
// reason, also once the request is approved (in JSON too).
func TestRequestShowNamesTheApprovals(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	id := strings.TrimSpace(c.ok("alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "1h",
		"--reason", "disk full on db-1", "--ticket", "INC-42"))
	c.ok("carol", "approve", id, "--reason", "manager: go ahead")
	pending := c.ok("alice", "request", "show", id)
	for _, want := range []string{"pending", "carol at ", "manager: go ahead", "Still needs", "1 of frank: group security"} {
		if !strings.Contains(pending, want) {
			t.Errorf("request show of the pending request lacks %q:\n%s", want, pending)
		}
	}
	c.ok("frank", "approve", id, "--reason", "security: fine")
	shown := c.ok("alice", "request", "show", id)
	for _, want := range []string{"approved", "carol at ", "manager: go ahead", "frank at ", "security: fine", "Grant window", "all required approvals given"} {
		if !strings.Contains(shown, want) {
			t.Errorf("request show of the approved request lacks %q:\n%s", want, shown)
		}
	}
	var req wire.Request
	if err := json.Unmarshal([]byte(c.ok("alice", "--json", "request", "show", id)), &req); err != nil {
		t.Fatal(err)
	}
	if len(req.Approvals) != 2 || req.Approvals[0].Approver != "carol" || req.Approvals[1].Reason != "security: fine" || req.Approvals[0].At.IsZero() {
		t.Fatalf("request show --json approvals: %+v", req.Approvals)
	}
	c.refused("not_found", "dave", "request", "show", id)
}

// Through the real CA and CLI: with max_active_grants_per_user: 3 the
// approval that would start a fourth grant is refused; after a policy
// reload takes alice out of her team, her pending request cannot be
// approved, and the refusal says what changed. On both store engines.
func TestApprovalsFollowTheLimitAndTheReloadedPolicy(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, driver string) {
		c := startCA(t, driver)
		var ids []string
		for range 4 {
			ids = append(ids, strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1",
				"--duration", "1h", "--reason", "disk full on db-1")))
		}
		for _, id := range ids[:3] {
			c.ok("carol", "approve", id)
		}
		c.refused("alice has 3 active grants, the limit is 3", "carol", "approve", ids[3])
		c.refused("too_many_active", "carol", "approve", ids[3])
		c.ok("alice", "revoke", ids[0], "--reason", "done")

		teams := filepath.Join(c.policy, "teams.yaml")
		data, err := os.ReadFile(teams)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(data), "members: [alice, bob]", "members: [bob]", 1)
		if edited == string(data) {
			t.Fatal("the example teams.yaml no longer lists alice and bob")
		}
		if err := os.WriteFile(teams, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the policy reload", func() bool { return strings.Contains(c.log.String(), "policy reloaded") })
		c.refused("alice is no longer in a team eligible for reader on db-1", "carol", "approve", ids[3])
		if out := c.ok("alice", "request", "show", ids[3]); !strings.Contains(out, "no longer in a team eligible") || !strings.Contains(out, "pending") {
			t.Fatalf("request show after the reload:\n%s", out)
		}
		c.refused("out_of_scope", "alice", "cert", ids[1], "--out", filepath.Join(t.TempDir(), "grant"))
	})
}
