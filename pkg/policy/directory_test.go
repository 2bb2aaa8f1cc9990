package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const boundGroups = `groups:
  - name: sre
    idp_group: "Site Reliability"
  - name: ops
    description: kept in the file only
`

func boundPolicy(t *testing.T) *Policy {
	t.Helper()
	k := newTestKeys(t)
	p, err := Parse(k.files(map[string]string{"c.yaml": boundGroups + `users:
  - name: dave
    keys: ["KEY5"]
    groups: [ops]
`}))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseKeepsAGroupsDirectoryBinding(t *testing.T) {
	p := boundPolicy(t)
	if got := p.Groups["sre"].IDPGroup; got != "Site Reliability" {
		t.Fatalf("sre's idp_group = %q", got)
	}
	if p.Groups["ops"].IDPGroup != "" {
		t.Fatal("ops is bound to nothing")
	}
}

func TestParseRefusesABadDirectoryBinding(t *testing.T) {
	k := newTestKeys(t)
	for _, tc := range []struct{ name, value, want string }{
		{"empty", `""`, `c.yaml:3: group g: idp_group: give the directory group's name`},
		{"control character", `"a\tb"`, `c.yaml:3: group g: idp_group: control character`},
		{"too long", `"` + strings.Repeat("x", 257) + `"`, `c.yaml:3: group g: idp_group: at most 256 characters`},
		{"not a string", `[a]`, `c.yaml:3: group g: idp_group`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(k.files(map[string]string{"c.yaml": "groups:\n  - name: g\n    idp_group: " + tc.value + "\n"}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// Directory membership adds people to bound groups only, in any case of
// the directory group's name, and never to unbound ones; file members
// stay; people the policy does not know are not added.
func TestDirectoryMembershipAddsPeopleToBoundGroupsOnly(t *testing.T) {
	p := boundPolicy(t)
	d := p.WithDirectory(map[string][]string{
		"bob":    {"site reliability"},
		"dave":   {"Site Reliability", "ops"},
		"nobody": {"Site Reliability"},
	})
	if !d.InGroup("bob", "sre") || !d.InGroup("dave", "sre") {
		t.Fatal("directory members of Site Reliability are not in sre")
	}
	if d.InGroup("bob", "ops") {
		t.Fatal("an unbound group took a directory member")
	}
	if !d.InGroup("dave", "ops") {
		t.Fatal("dave lost ops, which the file gives him")
	}
	if d.Users["nobody"] != nil {
		t.Fatal("a person the policy does not know was added")
	}
	if diff := cmp.Diff([]string{"bob", "dave"}, d.Groups["sre"].Members); diff != "" {
		t.Errorf("sre members (-want +got):\n%s", diff)
	}
	if p.InGroup("bob", "sre") || len(p.Groups["sre"].Members) != 0 {
		t.Fatal("WithDirectory changed the policy it was called on")
	}
	if p.WithDirectory(nil) != p {
		t.Fatal("no directory membership should give the policy itself")
	}
}
