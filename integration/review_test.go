package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// reviewTeam adds a team with a block list of members, one of them dated,
// beside the example policy's flow lists.
const reviewTeam = `teams:
  - name: oncall
    description: Web on-call
    members:
      - alice
      - {name: dave, until: 2099-12-31}   # contractor
      - bob
    managers: [carol]
    eligible:
      - roles: [reader]
        resources: ["tag:web"]
`

// An access review through the real CLI and CA: a manager and an auditor
// record keep and remove, a member may not; the exported patch, applied by
// the real patch(1) to a copy of the policy directory, passes the real
// "ca policy check" and removes exactly the memberships marked remove.
func TestReviewExportPatchRemovesExactlyWhatWasMarked(t *testing.T) {
	t.Parallel()
	patchTool := needTool(t, "patch", "patch")
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	if err := os.WriteFile(filepath.Join(c.policy, "zz-review.yaml"), []byte(reviewTeam), 0o600); err != nil {
		t.Fatal(err)
	}
	c.start()

	c.ok("carol", "review", "remove", "storage", "bob", "--reason", "moved to web")
	c.ok("carol", "review", "keep", "storage", "alice", "--reason", "on call")
	c.ok("carol", "review", "remove", "oncall", "dave", "--reason", "contract over")
	c.ok("frank", "review", "keep", "oncall", "alice", "--reason", "still on call")
	c.refused("neither manages team storage nor is an auditor", "bob", "review", "remove", "storage", "alice", "--reason", "x")
	c.refused("may not decide on their own membership", "carol", "review", "keep", "oncall", "carol", "--reason", "x")

	out := c.ok("carol", "review", "--team", "storage")
	for _, want := range []string{"storage  alice", "storage  bob", "remove by carol", "admin, health, reader on customer-db, db-1, db-2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("lockbox review --team storage lacks %q:\n%s", want, out)
		}
	}
	var rev wire.Review
	if err := json.Unmarshal([]byte(c.ok("frank", "review", "--json", "--unused", "30d")), &rev); err != nil {
		t.Fatal(err)
	}
	if len(rev.Entries) != 6 { // nobody used anything: every membership of storage, web and oncall
		t.Fatalf("frank's review of what went unused for 30d: %d entries, want 6", len(rev.Entries))
	}

	exportDir := t.TempDir()
	c.ok("carol", "review", "--export", exportDir)
	var x wire.ReviewExport
	data, err := os.ReadFile(filepath.Join(exportDir, "lockbox-review.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	wantRemoved := []wire.ReviewMembership{{Team: "oncall", User: "dave"}, {Team: "storage", User: "bob"}}
	if len(x.Decisions) != 4 || !slices.Equal(x.Removed, wantRemoved) {
		t.Fatalf("exported decisions %+v, removed %+v; want 4 decisions removing %+v", x.Decisions, x.Removed, wantRemoved)
	}

	copyDir := filepath.Join(t.TempDir(), "policy")
	run(t, "cp", "-r", c.policy, copyDir)
	patch := exec.Command(patchTool, "-p1", "--batch", "--forward", "-i", filepath.Join(exportDir, "lockbox-review.patch"))
	patch.Dir = copyDir
	if out, err := patch.CombinedOutput(); err != nil {
		t.Fatalf("patch -p1: %v\n%s", err, out)
	}
	if out := run(t, filepath.Join(bin, "ca"), "policy", "check", copyDir); !strings.Contains(out, "policy ok") {
		t.Fatalf("ca policy check on the patched copy: %s", out)
	}

	before, err := policy.LoadDir(c.policy)
	if err != nil {
		t.Fatal(err)
	}
	after, err := policy.LoadDir(copyDir)
	if err != nil {
		t.Fatal(err)
	}
	gone := map[policy.Membership]bool{{Team: "oncall", User: "dave"}: true, {Team: "storage", User: "bob"}: true}
	for name, team := range before.Teams {
		want := slices.DeleteFunc(slices.Clone(team.Members), func(u string) bool { return gone[policy.Membership{Team: name, User: u}] })
		if got := after.Teams[name].Members; !slices.Equal(got, want) {
			t.Errorf("team %s after the patch: members %v, want %v", name, got, want)
		}
	}
	if len(after.Teams) != len(before.Teams) {
		t.Errorf("the patch changed the teams: %d before, %d after", len(before.Teams), len(after.Teams))
	}
	// Only the two member lines changed, nothing else in any file.
	for _, f := range []struct{ name, removed, added string }{
		{"teams.yaml", "    members: [alice, bob]\n", "    members: [alice]\n"},
		{"zz-review.yaml", "      - {name: dave, until: 2099-12-31}   # contractor\n", ""},
	} {
		orig, _ := os.ReadFile(filepath.Join(c.policy, f.name))
		got, _ := os.ReadFile(filepath.Join(copyDir, f.name))
		if want := strings.Replace(string(orig), f.removed, f.added, 1); string(got) != want {
			t.Errorf("%s after the patch:\n%s\nwant:\n%s", f.name, got, want)
		}
	}
	entries, _ := os.ReadDir(c.policy)
	for _, e := range entries {
		if e.Name() == "teams.yaml" || e.Name() == "zz-review.yaml" {
			continue
		}
		orig, _ := os.ReadFile(filepath.Join(c.policy, e.Name()))
		got, _ := os.ReadFile(filepath.Join(copyDir, e.Name()))
		if string(orig) != string(got) {
			t.Errorf("the patch changed %s", e.Name())
		}
	}
}
