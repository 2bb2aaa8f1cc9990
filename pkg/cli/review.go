package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/pkg/when"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func (a *app) reviewCmd() *cobra.Command {
	var team, unused, export string
	c := &cobra.Command{
		Use:   "review [--team T] [--unused 30d] [--export DIR|FILE.json]",
		Short: "Access review: who may request what, when they last asked and used it (managers and auditors)",
		Long: `review lists each membership of the teams you may review (the teams you
manage; every team for auditors): what it lets the person request, when they
last requested and used it (sessions), and whether nothing was used within the
unused period (default 30d); with --unused, only those. It also lists dated
memberships and eligibilities that end soon, and the standing keep or remove
decisions ("lockbox review keep|remove TEAM USER --reason TEXT"). If you review
no team, it lists only your own dated eligibilities that end soon.

--export writes the decisions as JSON and, if any membership is marked remove,
a patch of the policy files that removes exactly those: DIR/lockbox-review.json
and DIR/lockbox-review.patch, or FILE.json and FILE.patch. Apply the patch in a
copy of the policy directory (patch -p1 < FILE.patch, or git apply), check it
with "ca policy check", and send it through your change process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var period time.Duration
			if unused != "" {
				var err error
				if period, err = parseDays(unused); err != nil {
					return usageError{err.Error()}
				}
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if export != "" {
				x, err := cl.ReviewExport(cmd.Context(), team)
				if err != nil {
					return err
				}
				return a.writeExport(x, export)
			}
			rev, err := cl.Review(cmd.Context(), team, period)
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(rev)
			}
			a.printReview(rev, period > 0)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&team, "team", "", "only this team")
	fl.StringVar(&unused, "unused", "", "only memberships with nothing used for this long (30d, 12h)")
	fl.StringVar(&export, "export", "", "write the decisions (JSON) and the policy patch to this directory or FILE.json")
	c.AddCommand(a.reviewDecideCmd("keep"), a.reviewDecideCmd("remove"))
	return c
}

func (a *app) reviewDecideCmd(decision string) *cobra.Command {
	var reason string
	what := map[string]string{"keep": "Record that USER stays in TEAM", "remove": "Mark USER's membership of TEAM for removal (see review --export)"}[decision]
	c := &cobra.Command{
		Use:   decision + " TEAM USER --reason TEXT",
		Short: what + ", with a reason (audited; never about yourself)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usageError{"--reason is required: say why"}
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			v, err := cl.DecideReview(cmd.Context(), wire.ReviewDecide{Team: args[0], User: args[1], Decision: decision, Reason: reason})
			if err != nil {
				return err
			}
			if a.settings().JSON {
				return a.printJSON(v)
			}
			fmt.Fprintf(a.out, "recorded: %s %s's membership of %s (%s)\n", clean(v.Decision), clean(v.User), clean(v.Team), clean(v.Reason))
			return nil
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why (required)")
	return c
}

// parseDays reads a period: a whole number of days (30d) or a Go duration.
func parseDays(s string) (time.Duration, error) {
	bad := fmt.Errorf("--unused %q: want a number of days such as 30d, or a duration such as 12h", clean(truncate(s, 40)))
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 3660 {
			return 0, bad
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// daysText writes a period in days when it is whole days (30d).
func daysText(d time.Duration) string {
	if day := 24 * time.Hour; d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return when.Duration(d)
}

func (a *app) printReview(rev *wire.Review, onlyUnused bool) {
	period, _ := time.ParseDuration(rev.Unused)
	fmt.Fprintf(a.out, "Access review at %s; unused: nothing used for %s\n", when.Stamp(rev.At), daysText(period))
	if len(rev.Entries) == 0 {
		if onlyUnused {
			fmt.Fprintln(a.out, "No membership went unused for that long.")
		} else {
			fmt.Fprintln(a.out, "No memberships to review.")
		}
	} else {
		tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TEAM\tUSER\tMAY REQUEST\tLAST REQUESTED\tLAST USED\tUNUSED\tDECISION")
		for _, e := range rev.Entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", clean(e.Team), clean(e.User)+datesText(e.From, e.Until), clean(mayRequest(e.Grants)),
				stamp(e.LastRequested), stamp(e.LastUsed), unusedText(e), decisionText(e.Decision))
		}
		tw.Flush()
	}
	if len(rev.Endings) > 0 {
		fmt.Fprintln(a.out, "\nEnding soon:")
		for _, e := range rev.Endings {
			whose := "an eligibility entry of team " + clean(e.Team)
			if e.Member != "" {
				whose = clean(e.Member) + "'s membership of team " + clean(e.Team)
			}
			fmt.Fprintf(a.out, "  %s ends %s (%s on %s); tell %s\n", whose, clean(e.Ends), clean(strings.Join(e.Roles, ", ")),
				clean(strings.Join(e.Resources, ", ")), clean(strings.Join(append(slices.Clone(e.People), e.Managers...), ", ")))
		}
	}
	if len(rev.Stale) > 0 {
		fmt.Fprintln(a.out, "\nDecisions on memberships the policy no longer has:")
		for _, d := range rev.Stale {
			fmt.Fprintf(a.out, "  %s in %s: %s\n", clean(d.User), clean(d.Team), decisionText(&d))
		}
	}
}

// mayRequest sums a membership's grants up: "reader, admin on db-1, db-2".
func mayRequest(gs []wire.ReviewGrant) string {
	var roles, resources []string
	for _, g := range gs {
		if !slices.Contains(roles, g.Role) {
			roles = append(roles, g.Role)
		}
		if !slices.Contains(resources, g.Resource) {
			resources = append(resources, g.Resource)
		}
	}
	if len(roles) == 0 {
		return "nothing"
	}
	return strings.Join(roles, ", ") + " on " + strings.Join(resources, ", ")
}

func datesText(from, until string) string {
	switch {
	case from != "" && until != "":
		return " (" + from + " to " + until + ")"
	case from != "":
		return " (from " + from + ")"
	case until != "":
		return " (until " + until + ")"
	}
	return ""
}

func unusedText(e wire.ReviewEntry) string {
	n := 0
	for _, g := range e.Grants {
		if g.Unused {
			n++
		}
	}
	if e.Unused {
		return "all"
	}
	return fmt.Sprintf("%d of %d", n, len(e.Grants))
}

func decisionText(d *wire.ReviewVerdict) string {
	if d == nil {
		return "-"
	}
	return fmt.Sprintf("%s by %s, %s: %s", clean(d.Decision), clean(d.Reviewer), d.At.UTC().Format("2006-01-02"), clean(truncate(d.Reason, 60)))
}

func stamp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// writeExport writes the decisions and, when there is one, the patch.
func (a *app) writeExport(x *wire.ReviewExport, dest string) error {
	jsonPath, patchPath := filepath.Join(dest, "lockbox-review.json"), filepath.Join(dest, "lockbox-review.patch")
	if fi, err := os.Stat(dest); err != nil || !fi.IsDir() {
		if !strings.HasSuffix(dest, ".json") {
			return usageError{fmt.Sprintf("--export %q: give an existing directory or a file name ending in .json", clean(dest))}
		}
		jsonPath, patchPath = dest, strings.TrimSuffix(dest, ".json")+".patch"
	}
	decisions := struct {
		At        time.Time               `json:"at"`
		Decisions []wire.ReviewVerdict    `json:"decisions"`
		Removed   []wire.ReviewMembership `json:"removed"`
	}{x.At, x.Decisions, x.Removed}
	data, err := jsonIndent(decisions)
	if err != nil {
		return err
	}
	if err := os.WriteFile(jsonPath, data, 0o600); err != nil {
		return fmt.Errorf("writing the decisions: %w", err)
	}
	fmt.Fprintf(a.out, "wrote %d decisions to %s\n", len(x.Decisions), jsonPath)
	if x.Patch == "" {
		if err := os.Remove(patchPath); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing the old patch %s: %w", patchPath, err)
		}
		fmt.Fprintln(a.out, "nothing is marked remove: no policy patch")
		return nil
	}
	if err := os.WriteFile(patchPath, []byte(x.Patch), 0o600); err != nil {
		return fmt.Errorf("writing the policy patch: %w", err)
	}
	fmt.Fprintf(a.out, "wrote the policy patch removing %d memberships to %s\napply it in a copy of the policy directory: patch -p1 < %s\n",
		len(x.Removed), patchPath, patchPath)
	return nil
}

func jsonIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
