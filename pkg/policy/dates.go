package policy

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Dates bound a team membership or an eligibility entry, as Azure PIM's
// eligible assignments have a start and an end. A zero bound is open.
//
// From is the first instant in effect and Until the first instant no
// longer in effect: the window is [From, Until). A date written without
// a time (2026-11-30) is a whole UTC day, so "from: 2026-11-01" starts at
// 2026-11-01T00:00:00Z and "until: 2026-11-30" is inclusive: the last
// day in effect is the 30th, and Until is 2026-12-01T00:00:00Z. A time
// (2026-11-30T18:00:00Z, an RFC 3339 time with its offset) is exact, and
// until then names the first instant no longer in effect.
type Dates struct {
	From, Until time.Time
	// FromText and UntilText are the bounds as written, for messages.
	FromText, UntilText string
}

// Dated reports whether d has a bound at all.
func (d Dates) Dated() bool { return !d.From.IsZero() || !d.Until.IsZero() }

// In reports whether t is inside d.
func (d Dates) In(t time.Time) bool {
	return (d.From.IsZero() || !t.Before(d.From)) && (d.Until.IsZero() || t.Before(d.Until))
}

// Started reports whether d's start is at or before t.
func (d Dates) Started(t time.Time) bool { return d.From.IsZero() || !t.Before(d.From) }

// Ended reports whether d's end is at or before t.
func (d Dates) Ended(t time.Time) bool { return !d.Until.IsZero() && !t.Before(d.Until) }

// Within returns the window inside both d and o: the later start and the
// earlier end, each with its text.
func (d Dates) Within(o Dates) Dates {
	out := d
	if !o.From.IsZero() && (out.From.IsZero() || o.From.After(out.From)) {
		out.From, out.FromText = o.From, o.FromText
	}
	if !o.Until.IsZero() && (out.Until.IsZero() || o.Until.Before(out.Until)) {
		out.Until, out.UntilText = o.Until, o.UntilText
	}
	return out
}

// EndsText says when d ends, for people: "on 2026-11-30" for a date
// (the last day in effect), "at 2026-11-30T18:00:00Z" for a time.
func (d Dates) EndsText() string { return boundText(d.UntilText) }

// StartsText says when d starts: "on 2026-11-01" or "at ...".
func (d Dates) StartsText() string { return boundText(d.FromText) }

func boundText(s string) string {
	if len(s) == len(dateLayout) {
		return "on " + s
	}
	return "at " + s
}

const dateLayout = "2006-01-02"

// Earliest and latest dates a policy may name: a typo such as 0206 or
// 20266 is an error rather than an eligibility that never or always holds.
var (
	earliestDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latestDate   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseBound reads a from: or until: value: an RFC 3339 date (a UTC day)
// or date and time. For until, a date means the end of that day.
func parseBound(s string, until bool) (time.Time, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		if until {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-11-30) nor an RFC 3339 time (2026-11-30T18:00:00Z)", s)
	}
	return t.UTC(), nil
}

// dates decodes the from: and until: fields of f. what names the entry.
func (d *nodes) dates(f map[string]*yaml.Node, what string) Dates {
	var out Dates
	bound := func(key string, until bool) (time.Time, string) {
		n := f[key]
		s := d.str(n, what+": "+key)
		if s == "" {
			if n != nil && !isNull(n) && n.Kind == yaml.ScalarNode {
				d.errorf(n, "%s: %s: empty date", what, key)
			}
			return time.Time{}, ""
		}
		t, err := parseBound(s, until)
		if err != nil {
			d.errorf(n, "%s: %s: %v", what, key, err)
			return time.Time{}, ""
		}
		if t.Before(earliestDate) || t.After(latestDate) {
			d.errorf(n, "%s: %s: %s is outside the years 2000 to 2199", what, key, s)
			return time.Time{}, ""
		}
		return t, s
	}
	out.From, out.FromText = bound("from", false)
	out.Until, out.UntilText = bound("until", true)
	if !out.From.IsZero() && !out.Until.IsZero() && !out.From.Before(out.Until) {
		d.errorf(f["until"], "%s: until %s is not after from %s, so it would never be in effect", what, out.UntilText, out.FromText)
	}
	return out
}
