package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func (a *app) auditCmd() *cobra.Command {
	var since string
	c := &cobra.Command{
		Use:   "audit [--since T] [--json]",
		Short: "Read or export the audit log (auditors)",
		Long: `audit prints the audit log. --since takes a time (RFC 3339, e.g.
2026-11-23T10:00:00Z) or a duration back from now (e.g. 2h). With --json it
prints one JSON object per line, for export.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, time.Now())
			if err != nil {
				return usageError{err.Error()}
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			jsonOut := a.settings().JSON
			enc := json.NewEncoder(a.out)
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			if !jsonOut {
				fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tSUBJECT\tDETAIL")
			}
			var after int64
			for {
				recs, err := cl.Audit(cmd.Context(), after, 1000)
				if err != nil {
					return err
				}
				for _, r := range recs {
					after = r.Seq
					if r.Time.Before(from) {
						continue
					}
					if jsonOut {
						if err := enc.Encode(r); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Local().Format("2006-01-02 15:04:05"),
						clean(r.Actor), clean(r.Action), clean(r.Subject), clean(truncate(detailText(r), 100)))
				}
				if len(recs) < 1000 {
					break
				}
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&since, "since", "", "only records at or after this time or duration ago")
	c.AddCommand(a.auditVerifyCmd(), a.auditCheckpointCmd())
	return c
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time or a duration such as 2h", s)
	}
	return t, nil
}

func detailText(r wire.AuditRecord) string {
	parts := make([]string, 0, len(r.Detail))
	for k, v := range r.Detail {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func (a *app) auditVerifyCmd() *cobra.Command {
	var checkpoints []string
	var auditKey string
	c := &cobra.Command{
		Use:   "verify [--checkpoint FILE]... [--audit-key FILE]",
		Short: "Verify the audit log's hash chain, and against signed checkpoints",
		Long: `verify asks the CA to check the whole audit chain against its head.

With --checkpoint it also checks the chain here, row by row, against
checkpoints the CA signed earlier and that were kept elsewhere: it fails
if the log no longer holds a checkpoint's row with the signed hash (a row
at or before it was rewritten) or no longer reaches it (rows were deleted
from the end and the head moved back). FILE is a file of checkpoints (as
the CA's audit_checkpoint.file or ` + "`lockbox audit checkpoint`" + ` writes them),
a checkpoint with FILE.sig beside it, or a directory of them (the CA's
audit_checkpoint.dir). Signatures are checked with --audit-key (the CA's
audit_key.pub), or else with the audit key the CA serves at /v1/ca.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			v, err := cl.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			var anchored *anchorResult
			if len(checkpoints) > 0 {
				if anchored, err = a.checkCheckpoints(cmd.Context(), cl, checkpoints, auditKey, v); err != nil {
					return err
				}
			}
			return a.reportVerification(v, anchored)
		},
	}
	c.Flags().StringArrayVar(&checkpoints, "checkpoint", nil, "a file or directory of signed checkpoints the log must still hold (repeatable)")
	c.Flags().StringVar(&auditKey, "audit-key", "", "the audit public key to check checkpoints with (default: the one the CA serves)")
	return c
}
