package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// printPending prints `lockbox requests --pending`: each request as a
// short block with what an approver needs to decide it (the marks, what
// it grants, the window if approved now, who can give each approval still
// needed, "(you)" included) and how to approve it.
func (a *app) printPending(reqs []wire.Request, now time.Time) {
	if len(reqs) == 0 {
		fmt.Fprintln(a.out, "No pending requests you can see.")
		return
	}
	me := a.settings().User
	for i, r := range reqs {
		if i > 0 {
			fmt.Fprintln(a.out)
		}
		printPendingOne(a.out, r, me, now)
	}
}

func printPendingOne(w io.Writer, r wire.Request, me string, now time.Time) {
	fmt.Fprintf(w, "%s  %s asks for %s on %s for %s\n", clean(r.ID), clean(r.User), clean(r.Role),
		clean(strings.Join(r.Resources, ", ")), shortDuration(r.Duration))
	if al := r.Allows; al != nil {
		if m := markText(al); m != "" {
			fmt.Fprintf(w, "  %s\n", m)
		}
		fmt.Fprintf(w, "  grants: %s\n", grantsText(al.Role))
	}
	if r.Window != nil {
		fmt.Fprintf(w, "  window: %s\n", windowText(r.Window, now))
	}
	for i, l := range needLines(r.Needs, me) {
		label := "  needs:  "
		if i > 0 {
			label = "          "
		}
		fmt.Fprintf(w, "%s%s\n", label, l)
	}
	if len(r.Approvals) > 0 {
		names := make([]string, len(r.Approvals))
		for i, ap := range r.Approvals {
			names[i] = clean(ap.Approver)
		}
		fmt.Fprintf(w, "  approved by: %s\n", strings.Join(names, ", "))
	}
	reason := clean(r.Reason)
	if r.Ticket != "" {
		reason += " [" + clean(r.Ticket) + "]"
	}
	fmt.Fprintf(w, "  reason: %s\n", reason)
	switch {
	case r.NoLongerFits != "":
		fmt.Fprintf(w, "  cannot be approved: %s\n", clean(r.NoLongerFits))
	case r.CanApprove:
		fmt.Fprintf(w, "  you can approve: lockbox approve %s\n", clean(r.ID))
	}
}

// grantsText sums up a role in one line: "login root, a shell on a
// terminal, any command".
func grantsText(r wire.Role) string {
	if r.Login == "" {
		return "nothing: the policy no longer has role " + clean(r.Name)
	}
	parts := []string{"login " + clean(r.Login)}
	if r.Interactive {
		parts = append(parts, "a shell on a terminal")
	} else {
		parts = append(parts, "commands only")
	}
	if len(r.AllowedCommands) == 0 {
		parts = append(parts, "any command")
	} else {
		cmds := make([]string, len(r.AllowedCommands))
		for i, c := range r.AllowedCommands {
			cmds[i] = clean(c)
		}
		parts = append(parts, "commands: "+strings.Join(cmds, "; "))
	}
	if r.ForceCommand != "" {
		parts = append(parts, "force-command "+clean(r.ForceCommand))
	}
	return strings.Join(parts, ", ")
}
