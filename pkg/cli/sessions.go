package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

func (a *app) sessionsCmd() *cobra.Command {
	var f client.SessionFilter
	var since string
	var live bool
	c := &cobra.Command{
		Use:   "sessions [--user U] [--resource R] [--since T] [--open] [--ended TEXT] [--live]",
		Short: "List sessions (auditors: everyone's; others: their own)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return usageError{err.Error()}
				}
				f.Since = t.UTC().Format(time.RFC3339)
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if live {
				return a.liveSessions(cmd.Context(), cl)
			}
			list, err := cl.Sessions(cmd.Context(), f)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(list)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SESSION\tUSER\tRESOURCE\tROLE\tSTARTED\tDURATION\tRECORDING\tENDED")
			for _, s := range list {
				dur, ended := "open", ""
				if s.EndedAt != nil {
					dur, ended = s.EndedAt.Sub(s.StartedAt).Round(time.Second).String(), s.EndReason
				}
				rec := "-"
				if s.RecordingSize > 0 {
					rec = fmt.Sprintf("%d B", s.RecordingSize)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, clean(s.User), clean(s.Resource), clean(s.Role),
					s.StartedAt.Local().Format("2006-01-02 15:04:05"), dur, rec, clean(truncate(ended, 60)))
			}
			return tw.Flush()
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.User, "user", "", "only this user's sessions")
	fl.StringVar(&f.Resource, "resource", "", "only sessions on this resource")
	fl.StringVar(&since, "since", "", "only sessions started at or after this time (RFC 3339) or duration ago")
	fl.BoolVar(&f.Open, "open", false, "only sessions still open")
	fl.StringVar(&f.Ended, "ended", "", "only sessions whose end reason contains this text (e.g. idle, revoked)")
	fl.BoolVar(&live, "live", false, "only running sessions you may watch (auditors, approvers), with idle time and a watch link")
	return c
}

// maxReplay bounds a recording replayed in the terminal, uncompressed: it
// is read into memory whole.
const maxReplay = 1 << 30

func (a *app) replayCmd() *cobra.Command {
	var speed float64
	var maxIdle time.Duration
	var export string
	c := &cobra.Command{
		Use:   "replay SESSION [--speed N] [--max-idle D] [--export FILE.cast]",
		Short: "Replay a session's recording in this terminal, or export it for asciinema",
		Long: `replay plays a recorded session as it happened (faster with --speed). Escape
sequences that could make your terminal answer, set its title or clipboard,
or type into it are removed before they reach your terminal.

--export FILE.cast writes the recording instead as a plain asciicast v2 file
that any asciinema player plays as it is (asciinema play FILE.cast): the
same sanitised output, window changes, and markers for the exec command,
signals, the exit status and the end; what was typed is left out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if speed <= 0 || speed > 1000 {
				return usageError{"--speed must be above 0 and at most 1000"}
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			data, err := cl.Recording(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			rec, err := recording.Read(bytes.NewReader(data), maxReplay)
			if err != nil {
				return fmt.Errorf("reading the recording: %w", err)
			}
			if export != "" {
				if err := exportRecording(rec, export); err != nil {
					return err
				}
				if rec.Truncated {
					fmt.Fprintln(a.err, "(the recording ends early: the bastion stopped during the session)")
				}
				return nil
			}
			if err := recording.Play(cmd.Context(), rec, a.out, speed, maxIdle, nil); err != nil {
				return err
			}
			if rec.Truncated {
				fmt.Fprintln(a.err, "\r\n(the recording ends early: the bastion stopped during the session)")
			}
			return nil
		},
	}
	c.Flags().Float64Var(&speed, "speed", 1, "playback speed")
	c.Flags().DurationVar(&maxIdle, "max-idle", 2*time.Second, "shorten pauses longer than this (0: keep them)")
	c.Flags().StringVar(&export, "export", "", "write a plain, sanitised asciicast v2 file here instead of playing")
	return c
}

// exportRecording writes rec to path as a plain asciicast file, whole or
// not at all.
func exportRecording(rec *recording.Recording, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("exporting the recording: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	err = recording.Export(tmp, rec)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("exporting the recording to %s: %w", path, err)
	}
	return nil
}
