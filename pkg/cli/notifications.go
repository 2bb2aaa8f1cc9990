package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/inert"
	"github.com/lockbox-ssh/lockbox/pkg/when"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func (a *app) notificationsCmd() *cobra.Command {
	var dead bool
	c := &cobra.Command{
		Use:   "notifications [--dead] [--json]",
		Short: "The notification outbox: messages waiting for delivery, or given up (auditors)",
		Long: `notifications prints how many notifications are queued, delivered (within
the retention) and dead, and lists the queued ones: each message's endpoint,
event, what it is about, its attempts so far, when the next one is due and the
last error. With --dead it lists the dead ones instead: given up after their
attempts or a permanent failure, each audited as notification.dead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			n, err := cl.Notifications(cmd.Context(), dead)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(n)
			}
			a.printNotifications(n, dead)
			return nil
		},
	}
	c.Flags().BoolVar(&dead, "dead", false, "list the dead messages instead of the queued ones")
	return c
}

func (a *app) printNotifications(n *wire.Notifications, dead bool) {
	fmt.Fprintf(a.out, "Notifications: %d queued, %d delivered, %d dead\n", n.Queued, n.Delivered, n.Dead)
	if len(n.Messages) == 0 {
		if dead {
			fmt.Fprintln(a.out, "No dead messages.")
		} else {
			fmt.Fprintln(a.out, "Nothing waits for delivery.")
		}
		return
	}
	fmt.Fprintln(a.out)
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	if dead {
		fmt.Fprintln(tw, "GIVEN UP\tENDPOINT\tEVENT\tABOUT\tATTEMPTS\tLAST ERROR\tKEY")
	} else {
		fmt.Fprintln(tw, "QUEUED\tENDPOINT\tEVENT\tABOUT\tATTEMPTS\tNEXT\tLAST ERROR\tKEY")
	}
	for _, m := range n.Messages {
		clean := inert.Text
		if dead {
			at := ""
			if m.DoneAt != nil {
				at = when.Stamp(*m.DoneAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", at, clean(m.Endpoint), clean(m.Event), clean(m.Subject), m.Attempts,
				clean(m.LastError), clean(m.Key))
			continue
		}
		next := ""
		if m.DueAt != nil {
			next = when.Stamp(*m.DueAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", when.Stamp(m.CreatedAt), clean(m.Endpoint), clean(m.Event), clean(m.Subject),
			m.Attempts, next, clean(m.LastError), clean(m.Key))
	}
	tw.Flush()
}
