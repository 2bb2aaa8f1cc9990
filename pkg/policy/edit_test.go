package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// RemoveMembers takes exactly the asked memberships out of the files,
// whatever list style holds them, and leaves every other byte alone.
func TestRemoveMembersTakesOutExactlyTheMarkedMemberships(t *testing.T) {
	const block = `# Block lists, with dated members.
teams:
  - name: block
    members:
      - alice   # on call
      - {name: bob, until: 2026-11-30}
      - name: dave
        from: 2026-01-01
      -
        name: erin
        until: 2026-12-31
      - frank
    eligible:
      - roles: [reader]
        resources: [db-1]
  - name: flow
    members: [alice, "bob", {name: dave, until: 2026-11-30}, erin]
    eligible: [{roles: [reader], resources: [db-2]}]
`
	tests := []struct {
		name   string
		remove []Membership
		want   string // the file after, or "" for unchanged
	}{
		{"a plain block item with its comment", []Membership{{"block", "alice"}},
			strings.Replace(block, "      - alice   # on call\n", "", 1)},
		{"a dated flow mapping in a block list", []Membership{{"block", "bob"}},
			strings.Replace(block, "      - {name: bob, until: 2026-11-30}\n", "", 1)},
		{"a block mapping over two lines", []Membership{{"block", "dave"}},
			strings.Replace(block, "      - name: dave\n        from: 2026-01-01\n", "", 1)},
		{"a block mapping under a lone dash", []Membership{{"block", "erin"}},
			strings.Replace(block, "      -\n        name: erin\n        until: 2026-12-31\n", "", 1)},
		{"items of a flow list, quoted and dated", []Membership{{"flow", "bob"}, {"flow", "dave"}},
			strings.Replace(block, `[alice, "bob", {name: dave, until: 2026-11-30}, erin]`, "[alice, erin]", 1)},
		{"every item of a flow list", []Membership{{"flow", "alice"}, {"flow", "bob"}, {"flow", "dave"}, {"flow", "erin"}},
			strings.Replace(block, `[alice, "bob", {name: dave, until: 2026-11-30}, erin]`, "[]", 1)},
		{"the same user in one team only", []Membership{{"flow", "alice"}, {"block", "frank"}},
			strings.Replace(strings.Replace(block, `[alice, "bob",`, `["bob",`, 1), "      - frank\n", "", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := exampleFiles(t)
			files["zz-teams.yaml"] = []byte(block)
			got, err := RemoveMembers(files, tc.remove)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("changed files %v, want zz-teams.yaml only", len(got))
			}
			if diff := cmp.Diff(tc.want, string(got["zz-teams.yaml"])); diff != "" {
				t.Fatalf("edited file (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("the example policy's flow list", func(t *testing.T) {
		files := exampleFiles(t)
		got, err := RemoveMembers(files, []Membership{{"storage", "bob"}})
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(string(files["teams.yaml"]), "members: [alice, bob]", "members: [alice]", 1)
		if diff := cmp.Diff(want, string(got["teams.yaml"])); diff != "" {
			t.Fatalf("teams.yaml (-want +got):\n%s", diff)
		}
	})
}

// What cannot be removed exactly is refused, and nothing is changed.
func TestRemoveMembersRefusesWhatItCannotRemoveExactly(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		remove     Membership
		says       string
	}{
		{"not a member", "", Membership{"storage", "dave"}, "dave is not a member of team storage"},
		{"no such team", "", Membership{"nope", "alice"}, "not a member of team nope"},
		{"a comment inside a flow list", "teams:\n  - name: t\n    members: [alice,   # first\n      bob]\n", Membership{"t", "bob"}, "a comment inside a flow list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := exampleFiles(t)
			if tc.file != "" {
				files["zz.yaml"] = []byte(tc.file)
			}
			got, err := RemoveMembers(files, []Membership{tc.remove})
			if err == nil || !strings.Contains(err.Error(), tc.says) || got != nil {
				t.Fatalf("RemoveMembers = %v, %v; want no files and an error saying %q", got, err, tc.says)
			}
		})
	}
}
