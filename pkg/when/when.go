// Package when writes times and durations for people: durations as 1h30m,
// instants in UTC to the second, and how far an instant is from now ("in
// 2h", "10m ago"). The web pages and the CLI share it, so both say the
// same. It is a leaf.
package when

import (
	"fmt"
	"strings"
	"time"
)

// Duration writes d as 2h, 1h30m or 45s (shorter than Go's 2h0m0s),
// rounded to the second; "0s" for d ≤ 0.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// Stamp writes t in UTC to the second: 2026-12-01 09:04:05 UTC.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }

// Relative says how far t is from now: "in 2h", "10m ago", to the second
// under a minute and to the minute beyond; "now" within half a second.
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	ago := d < 0
	if ago {
		d = -d
	}
	if d >= time.Minute {
		d = d.Round(time.Minute)
	}
	if d.Round(time.Second) == 0 {
		return "now"
	}
	if ago {
		return Duration(d) + " ago"
	}
	return "in " + Duration(d)
}
