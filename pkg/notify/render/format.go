package render

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/pkg/inert"
	"github.com/lockbox-ssh/lockbox/pkg/when"
)

// clean makes stored text inert: control characters and bidirectional
// overrides shown escaped, newlines as spaces, invalid UTF-8 replaced.
func clean(s string) string { return inert.Text(s) }

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return out
}

// names joins cleaned names with commas.
func names(ss []string) string { return strings.Join(cleanAll(ss), ", ") }

// duration writes d as 2h, 1h30m or 45s: shorter than Go's 2h0m0s, as
// the web pages and the CLI write it.
func duration(d time.Duration) string { return when.Duration(d) }

// stamp writes t in UTC to the minute, or to the second when it has
// seconds, so a window is shown exactly.
func stamp(t time.Time) string {
	t = t.UTC()
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.Format("2006-01-02 15:04:05 UTC")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// clock is stamp without the date, for a second time on the same day.
func clock(t time.Time) string {
	s := stamp(t)
	return s[len("2006-01-02 "):]
}

// window writes a validity window, the date once when both ends share it.
func window(from, to time.Time) string {
	if from.UTC().Format(time.DateOnly) == to.UTC().Format(time.DateOnly) {
		s := stamp(from)
		return strings.TrimSuffix(s, " UTC") + " – " + clock(to)
	}
	return stamp(from) + " – " + stamp(to)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + ellipsis
}
