package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// liveWait is how long one read of a watch waits for output.
const liveWait = time.Second

func (a *app) watchCmd() *cobra.Command {
	var end string
	var raw bool
	c := &cobra.Command{
		Use:   "watch SESSION [--end REASON] [--raw]",
		Short: "Watch a running session live, read-only (auditors and the grant's approvers)",
		Long: `watch shows a running session's output as it happens, starting with the
latest output the CA keeps, until the session ends or you press Ctrl-C. The
watched user is told who watches (unless their role's silent_watch is set).
If you read slower than the session writes, watch skips ahead and says how
much it skipped. Escape sequences that could make your terminal answer, set
its title or clipboard are removed, unless --raw writes the exact bytes
(to a file or pipe only, never to a terminal).

--end REASON ends the session instead of watching it: its bastion ends it
within a second, tells the user why, and the audit log names you.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			id := args[0]
			if cmd.Flags().Changed("end") {
				if strings.TrimSpace(end) == "" {
					return usageError{"--end needs a reason"}
				}
				if err := cl.EndWatched(cmd.Context(), id, end); err != nil {
					return err
				}
				fmt.Fprintf(a.err, "lockbox: %s is being ended; the bastion ends it within a second\n", id)
				return nil
			}
			out := a.out
			if raw {
				if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return usageError{"--raw writes the session's exact bytes, which could drive your terminal; send them to a file or pipe"}
				}
			} else {
				out = recording.NewSanitizer(out)
			}
			return a.watch(cmd.Context(), cl, id, out)
		},
	}
	c.Flags().StringVar(&end, "end", "", "end the session, with this reason, instead of watching it")
	c.Flags().BoolVar(&raw, "raw", false, "write the exact output bytes (not to a terminal)")
	return c
}

// watch copies the session's output to out until it ends or ctx does,
// and stops the watch on the way out.
func (a *app) watch(ctx context.Context, cl *client.Client, id string, out io.Writer) error {
	w, err := cl.StartWatch(ctx, id, "cli")
	if err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl.StopWatch(stop, id, w.ID) //nolint:errcheck // the watch ends on its own when it is not read
	}()
	fmt.Fprintf(a.err, "lockbox: watching %s live (Ctrl-C stops)\r\n", id)
	after := int64(-1)
	var watchers string
	for {
		got, err := cl.ReadLive(ctx, id, w.ID, after, liveWait)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if got.Skipped > 0 {
			fmt.Fprintf(a.err, "\r\nlockbox: skipped %d bytes of output (this watch read slower than the session wrote)\r\n", got.Skipped)
		}
		if _, err := out.Write(got.Data); err != nil {
			return err
		}
		if now := strings.Join(got.Watchers, ", "); now != watchers {
			watchers = now
			fmt.Fprintf(a.err, "\r\nlockbox: watching now: %s\r\n", clean(now))
		}
		after = got.Next
		if got.Ended {
			fmt.Fprintf(a.err, "\r\nlockbox: the session ended: %s\r\n", clean(got.EndReason))
			return nil
		}
	}
}

// liveSessions prints the running sessions the caller may watch.
func (a *app) liveSessions(ctx context.Context, cl *client.Client) error {
	list, err := cl.LiveSessions(ctx)
	if err != nil {
		return err
	}
	if a.settings().JSON {
		return a.printJSON(list)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tUSER\tRESOURCE\tROLE\tSTARTED\tIDLE\tWATCHERS\tWATCH")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, clean(s.User), clean(s.Resource), clean(s.Role),
			s.StartedAt.Local().Format("2006-01-02 15:04:05"), idleFor(s, now), clean(orDash(strings.Join(s.Watchers, ","))),
			strings.TrimSuffix(a.settings().CA, "/")+"/ui/sessions/"+s.ID)
	}
	return tw.Flush()
}

// idleFor is how long since the user's last keystroke (since the start if
// none).
func idleFor(s wire.LiveSession, now time.Time) string {
	last := s.StartedAt
	if s.LastInput != nil && s.LastInput.After(last) {
		last = *s.LastInput
	}
	return max(0, now.Sub(last)).Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
