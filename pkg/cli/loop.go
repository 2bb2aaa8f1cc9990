package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/when"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The approval loop as the CLI writes it: who can satisfy each outstanding
// requirement, what a grant allows, its marks and its window. Every text
// from the CA goes through clean.

// needLines write "1 of carol (you), dave: managers of storage", marking
// me where the API says the caller can give the approval.
func needLines(needs []wire.Need, me string) []string {
	lines := make([]string, len(needs))
	for i, n := range needs {
		if len(n.Of) == 0 {
			lines[i] = fmt.Sprintf("%d more: %s (nobody in the policy can give it)", n.Count, clean(n.Label))
			continue
		}
		people := make([]string, len(n.Of))
		for j, who := range n.Of {
			people[j] = clean(who)
			if n.You && who == me {
				people[j] += " (you)"
			}
		}
		lines[i] = fmt.Sprintf("%d of %s: %s", n.Count, strings.Join(people, ", "), clean(n.Label))
	}
	return lines
}

// markText writes the marks a grant carries: "⚠ root login, ⚠
// interactive shell, ⚠ customer data (customer-db)".
func markText(a *wire.Allows) string {
	var out []string
	for _, m := range a.Marks {
		switch m {
		case "root_login":
			out = append(out, "⚠ root login")
		case "interactive":
			out = append(out, "⚠ interactive shell")
		case "customer_data":
			var own []string
			for _, r := range a.Resources {
				if r.OwnApproval {
					own = append(own, clean(r.Name))
				}
			}
			out = append(out, "⚠ customer data ("+strings.Join(own, ", ")+")")
		default:
			out = append(out, "⚠ "+clean(m))
		}
	}
	return strings.Join(out, ", ")
}

func shellText(r wire.Role) string {
	if r.Interactive {
		return "yes: a shell on a terminal"
	}
	return "no: commands only"
}

func resourceLine(r wire.Resource) string {
	s := clean(r.Name)
	if r.Missing {
		s += " (no longer in the policy)"
	}
	if r.Description != "" {
		s += " — " + clean(r.Description)
	}
	if len(r.Tags) > 0 {
		s += " (tags: " + clean(strings.Join(r.Tags, ", ")) + ")"
	}
	if r.OwnApproval {
		s += " [own approval rule]"
	}
	return s
}

// windowText writes a window in UTC and relative to now: "2026-12-01
// 09:00:00 UTC (now) – 2026-12-01 10:00:00 UTC (in 1h), if approved now".
func windowText(w *wire.Window, now time.Time) string {
	s := fmt.Sprintf("%s (%s) – %s (%s)", when.Stamp(w.NotBefore), when.Relative(w.NotBefore, now),
		when.Stamp(w.NotAfter), when.Relative(w.NotAfter, now))
	if w.IfApprovedNow {
		s += ", if approved now"
	}
	return s
}

// shortDuration writes a Go duration from the API as 2h; as sent if
// unreadable.
func shortDuration(s string) string {
	if d, err := time.ParseDuration(s); err == nil {
		return when.Duration(d)
	}
	return clean(s)
}
