package review

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// ExportDecision is one standing decision as exported.
type ExportDecision struct {
	User     string    `json:"user"`
	Team     string    `json:"team"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason"`
	Reviewer string    `json:"reviewer"`
	At       time.Time `json:"at"`
	// InPolicy: the policy still lists the membership. A removal that
	// is no longer in the policy was applied already and is not in the
	// patch.
	InPolicy bool `json:"in_policy"`
}

// Export is the decisions and what they remove.
type Export struct {
	At        time.Time           `json:"at"`
	Decisions []ExportDecision    `json:"decisions"`
	Removed   []policy.Membership `json:"removed"`
	// Patch is a unified diff of the policy files (a/NAME and b/NAME,
	// NAME the file's name in the policy directory, so it applies with
	// patch -p1 or git apply inside that directory) that removes exactly
	// Removed; "" when nothing is to be removed.
	Patch string `json:"-"`
}

// MakeExport exports the standing decisions in the given teams (nil: all)
// and makes the patch of p's files that removes the memberships marked
// remove. The patch is made against the policy p was parsed from; it is
// refused (an error, nothing exported) if the edit cannot be made exactly.
func MakeExport(p *policy.Policy, decisions []store.ReviewDecision, teams []string, now time.Time) (*Export, error) {
	x := &Export{At: now, Decisions: []ExportDecision{}, Removed: []policy.Membership{}}
	for _, d := range decisions {
		if teams != nil && !slices.Contains(teams, d.Team) {
			continue
		}
		t := p.Teams[d.Team]
		in := t != nil && slices.Contains(t.Members, d.User)
		x.Decisions = append(x.Decisions, ExportDecision{User: d.User, Team: d.Team, Decision: d.Decision, Reason: d.Reason,
			Reviewer: d.Reviewer, At: d.At, InPolicy: in})
		if in && d.Decision == Remove {
			x.Removed = append(x.Removed, policy.Membership{Team: d.Team, User: d.User})
		}
	}
	if len(x.Removed) == 0 {
		return x, nil
	}
	files := p.Files()
	changed, err := policy.RemoveMembers(files, x.Removed)
	if err != nil {
		return nil, fmt.Errorf("making the policy patch: %w", err)
	}
	var patch strings.Builder
	for _, name := range slices.Sorted(maps.Keys(changed)) {
		base := filepath.Base(name)
		patch.WriteString(udiff.Unified("a/"+base, "b/"+base, string(files[name]), string(changed[name])))
	}
	x.Patch = patch.String()
	return x, nil
}
