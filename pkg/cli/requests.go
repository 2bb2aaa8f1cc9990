package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func (a *app) requestCmd() *cobra.Command {
	var in wire.SubmitRequest
	var resources []string
	var duration time.Duration
	c := &cobra.Command{
		Use:   "request --role R --resource X[,Y] [--duration D] --reason TEXT [--ticket T] [--start T]",
		Short: "Ask for a role on resources for a while",
		Long: `request asks for a role on resources. The window starts at approval,
or, with --start, at a chosen time: an RFC 3339 time (2026-12-02T02:00:00Z)
or +DURATION from now (+8h). A scheduled request is decided ahead of time;
its certificate can be fetched from the start on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			in.Resources, in.Duration = resources, duration.String()
			req, err := cl.Submit(cmd.Context(), in)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(req)
			}
			fmt.Fprintln(a.out, req.ID)
			switch {
			case req.State == "approved" && req.Start != nil:
				fmt.Fprintf(a.err, "approved at once (auto-approval); the window opens at %s and ends at %s\n",
					req.NotBefore.Local().Format(time.RFC3339), req.NotAfter.Local().Format(time.RFC3339))
			case req.State == "approved":
				fmt.Fprintf(a.err, "approved at once (auto-approval); valid until %s\n", req.NotAfter.Local().Format(time.RFC3339))
			case req.Start != nil:
				fmt.Fprintf(a.err, "pending approval; once approved the window opens at %s; expires undecided at %s\n",
					req.Start.Local().Format(time.RFC3339), req.PendingUntil.Local().Format(time.RFC3339))
			default:
				fmt.Fprintf(a.err, "pending approval; expires undecided at %s\n", req.PendingUntil.Local().Format(time.RFC3339))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&in.Role, "role", "", "role to request")
	f.StringSliceVar(&resources, "resource", nil, "resource(s), comma-separated or repeated")
	f.DurationVar(&duration, "duration", time.Hour, "how long the grant should last")
	f.StringVar(&in.Reason, "reason", "", "justification")
	f.StringVar(&in.Ticket, "ticket", "", "ticket reference (some roles require one)")
	f.StringVar(&in.Start, "start", "", "start the window later: an RFC 3339 time or +DURATION from now (default: at approval)")
	for _, name := range []string{"role", "resource", "reason"} {
		c.MarkFlagRequired(name) //nolint:errcheck // the flag exists
	}
	c.AddCommand(a.requestShowCmd())
	return c
}

func (a *app) requestsCmd() *cobra.Command {
	var mine, pending bool
	c := &cobra.Command{
		Use:   "requests [--mine] [--pending]",
		Short: "List requests you made or may decide",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			reqs, err := cl.List(cmd.Context(), mine, pending)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(reqs)
			}
			if pending {
				a.printPending(reqs, time.Now())
				return nil
			}
			a.printRequests(reqs)
			return nil
		},
	}
	c.Flags().BoolVar(&mine, "mine", false, "only your own requests")
	c.Flags().BoolVar(&pending, "pending", false, "only pending requests")
	return c
}

func (a *app) printRequests(reqs []wire.Request) {
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tUSER\tROLE\tRESOURCES\tDURATION\tCREATED\tDETAIL")
	for _, r := range reqs {
		detail := r.Reason
		switch {
		case r.State == "pending" && r.NoLongerFits != "":
			detail = r.NoLongerFits
		case r.State == "pending" && len(r.Needs) > 0:
			detail = "needs " + strings.Join(needLines(r.Needs, a.settings().User), "; ")
		case r.State == "pending" && len(r.Outstanding) > 0:
			detail = "needs " + strings.Join(r.Outstanding, ", ")
		case r.State == "approved" && r.NotBefore != nil && r.NotBefore.After(time.Now()):
			detail = "opens " + r.NotBefore.Local().Format("2006-01-02 15:04") + ", until " + r.NotAfter.Local().Format("2006-01-02 15:04")
		case r.State == "approved" && r.NotAfter != nil:
			detail = "until " + r.NotAfter.Local().Format("2006-01-02 15:04")
		case r.Decision != "":
			detail = r.Decision
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, clean(r.User), clean(r.Role),
			clean(strings.Join(r.Resources, ",")), r.Duration, r.CreatedAt.Local().Format("2006-01-02 15:04"), clean(truncate(detail, 60)))
	}
	tw.Flush()
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// decisionCmd builds approve, deny and revoke.
func (a *app) decisionCmd(use, short string, reasonRequired bool,
	call func(cl *client.Client, cmd *cobra.Command, id, reason string) (*wire.Request, error)) *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			req, err := call(cl, cmd, args[0], reason)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(req)
			}
			msg := clean(fmt.Sprintf("%s is %s", req.ID, req.State))
			switch {
			case req.State == "pending" && len(req.Needs) > 0:
				msg += "; still needs " + strings.Join(needLines(req.Needs, a.settings().User), "; ")
			case req.State == "pending" && len(req.Outstanding) > 0:
				msg += "; still needs " + clean(strings.Join(req.Outstanding, ", "))
			}
			fmt.Fprintln(a.out, msg)
			return nil
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "reason for the decision")
	if reasonRequired {
		c.MarkFlagRequired("reason") //nolint:errcheck // the flag exists
	}
	return c
}

func (a *app) approveCmd() *cobra.Command {
	var duration time.Duration
	var code string
	c := a.decisionCmd("approve ID [--reason TEXT] [--duration D] [--code CODE]", "Approve someone else's request", false,
		func(cl *client.Client, cmd *cobra.Command, id, reason string) (*wire.Request, error) {
			in := wire.ApproveRequest{Reason: reason, Code: code}
			if cmd.Flags().Changed("duration") {
				if duration <= 0 {
					return nil, usageError{fmt.Sprintf("--duration %s: give a positive duration such as 30m", duration)}
				}
				in.Duration = duration.String()
			}
			if in.Code == "" {
				var err error
				if in.Code, err = a.codeIfAsked(cmd, cl, id, "to approve "+id); err != nil {
					return nil, err
				}
			}
			return cl.ApproveWith(cmd.Context(), id, in)
		})
	c.Long = `approve records your approval. With --duration the grant lasts at most
that long (it lasts the shortest duration any approver gave, never longer
than asked). A role with step_up_mfa asks for a fresh code from your
authenticator: on a terminal you are prompted, or give --code.`
	c.Flags().DurationVar(&duration, "duration", 0, "shorten the grant to this (default: as asked)")
	c.Flags().StringVar(&code, "code", "", "current MFA code, for roles that ask for one")
	return c
}

func (a *app) denyCmd() *cobra.Command {
	return a.decisionCmd("deny ID --reason TEXT", "Deny a request (or withdraw your own)", true,
		func(cl *client.Client, cmd *cobra.Command, id, reason string) (*wire.Request, error) {
			return cl.Deny(cmd.Context(), id, reason)
		})
}

func (a *app) revokeCmd() *cobra.Command {
	return a.decisionCmd("revoke ID [--reason TEXT]", "End a grant now", false,
		func(cl *client.Client, cmd *cobra.Command, id, reason string) (*wire.Request, error) {
			req, err := cl.Revoke(cmd.Context(), id, reason)
			if err != nil {
				return nil, explainPending(cmd.Context(), cl, id, err,
					fmt.Sprintf("there is no grant to revoke yet. To withdraw the request: lockbox deny %s --reason TEXT", id))
			}
			return req, nil
		})
}
