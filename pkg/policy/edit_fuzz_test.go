package policy

import (
	"maps"
	"slices"
	"testing"
)

// FuzzRemoveMembers: whatever a teams file holds, removing its teams'
// first members either refuses or gives files that parse and lack
// exactly those memberships; it never panics.
func FuzzRemoveMembers(f *testing.F) {
	f.Add([]byte("teams:\n  - name: t\n    members: [alice, \"bob\", {name: dave, until: 2026-11-30}]\n"))
	f.Add([]byte("teams:\n  - name: t\n    members:\n      - alice # x\n      -\n        name: bob\n        from: 2026-01-01\n"))
	f.Add([]byte("teams:\n  - name: t\n    members: &m [ 'al''ice', bob ]\n"))
	f.Add([]byte("teams:\n  - name: t\n    members: [alice,\n      bob]\n  - name: u\n    members:\n    - bob\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files := exampleFiles(t)
		files["zz-fuzz.yaml"] = data
		before, err := Parse(files)
		if err != nil {
			return
		}
		var remove []Membership
		for _, name := range slices.Sorted(maps.Keys(before.Teams)) {
			if tm := before.Teams[name]; len(tm.Members) > 0 {
				remove = append(remove, Membership{name, tm.Members[0]})
			}
		}
		changed, err := RemoveMembers(files, remove)
		if err != nil {
			return
		}
		after := maps.Clone(files)
		maps.Copy(after, changed)
		p, err := Parse(after)
		if err != nil {
			t.Fatalf("RemoveMembers gave files that do not parse: %v", err)
		}
		for _, m := range remove {
			if slices.Contains(p.Teams[m.Team].Members, m.User) {
				t.Fatalf("%s is still in %s", m.User, m.Team)
			}
		}
	})
}
