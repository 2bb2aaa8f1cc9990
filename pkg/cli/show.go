package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// requestShowCmd is `lockbox request show ID`: one request with its whole
// story, approvals included.
func (a *app) requestShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one request: who approved it, when and why, what it still needs, its decision and window",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			req, err := cl.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(req)
			}
			a.printRequest(req, time.Now())
			return nil
		},
	}
}

const showTime = "2006-01-02 15:04:05 MST"

func localTime(t time.Time) string { return t.Local().Format(showTime) }

// printRequest prints r as labelled lines, every text from the CA inert;
// relative times are from now.
func (a *app) printRequest(r *wire.Request, now time.Time) {
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	line := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, clean(value)) }
	// lines prints values already made inert, one per line, the label on
	// the first.
	lines := func(label string, values []string) {
		for i, v := range values {
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(tw, "%s\t%s\n", label, v)
		}
	}
	line("ID", r.ID)
	line("State", r.State)
	line("User", r.User)
	if al := r.Allows; al != nil {
		role := clean(r.Role)
		if al.Role.Description != "" {
			role += " — " + clean(al.Role.Description)
		}
		lines("Role", []string{role})
		if m := markText(al); m != "" {
			lines("Marks", []string{m})
		}
		res := make([]string, len(al.Resources))
		for i, x := range al.Resources {
			res[i] = resourceLine(x)
		}
		lines("Resources", res)
	} else {
		line("Role", r.Role)
		line("Resources", strings.Join(r.Resources, ", "))
	}
	line("Duration", r.Duration)
	if r.GrantDuration != "" {
		line("Grant lasts", r.GrantDuration+" (shortened by an approver)")
	}
	if r.Start != nil {
		line("Window starts", localTime(*r.Start)+" (scheduled)")
	}
	if r.StepUpMFA {
		line("Step-up MFA", "approving and fetching the certificate need a fresh code")
	}
	line("Reason", r.Reason)
	if r.Ticket != "" {
		line("Ticket", r.Ticket)
	}
	line("Created", localTime(r.CreatedAt))
	if r.State == "pending" && r.PendingUntil != nil {
		line("Expires undecided", localTime(*r.PendingUntil))
	}
	if len(r.Approvals) == 0 {
		line("Approvals", "none")
	}
	for i, ap := range r.Approvals {
		label := ""
		if i == 0 {
			label = "Approvals"
		}
		given := ap.Approver + " at " + localTime(ap.At)
		if ap.Duration != "" {
			given += " for " + ap.Duration
		}
		if ap.Reason != "" {
			given += ": " + ap.Reason
		}
		line(label, given)
	}
	switch {
	case len(r.Needs) > 0:
		lines("Still needs", needLines(r.Needs, a.settings().User))
	case len(r.Outstanding) > 0: // a CA that does not name approvers
		line("Still needs", strings.Join(r.Outstanding, ", "))
	}
	if r.EscalatedAt != nil && r.State == "pending" {
		line("Escalated", localTime(*r.EscalatedAt))
	}
	if r.NoLongerFits != "" {
		line("Cannot be approved", r.NoLongerFits)
	}
	if r.DecidedAt != nil {
		decided := localTime(*r.DecidedAt)
		if r.DecidedBy != "" {
			decided += " by " + r.DecidedBy
		}
		if r.Decision != "" {
			decided += ": " + r.Decision
		}
		line("Decided", decided)
	}
	if al := r.Allows; al != nil {
		printAllows(lines, al)
	}
	switch {
	case r.Window != nil && r.Window.IfApprovedNow:
		lines("Window", []string{windowText(r.Window, now)})
	case r.Window != nil:
		lines("Grant window", []string{windowText(r.Window, now)})
	case r.NotBefore != nil && r.NotAfter != nil:
		line("Grant window", localTime(*r.NotBefore)+" to "+localTime(*r.NotAfter))
	}
	tw.Flush()
}

// printAllows prints what the grant's role allows, for request show.
func printAllows(lines func(string, []string), al *wire.Allows) {
	role := al.Role
	if role.Login == "" {
		lines("Grants", []string{"nothing: the policy no longer has role " + clean(role.Name)})
		return
	}
	lines("Login", []string{clean(role.Login)})
	lines("Shell", []string{shellText(role)})
	if len(role.AllowedCommands) == 0 {
		lines("Commands", []string{"any"})
	} else {
		cmds := make([]string, len(role.AllowedCommands))
		for i, c := range role.AllowedCommands {
			cmds[i] = clean(c)
		}
		lines("Commands", cmds)
	}
	if role.ForceCommand != "" {
		lines("Force command", []string{clean(role.ForceCommand)})
	}
	lines("Longest grant", []string{shortDuration(role.MaxDuration)})
}
