package web

import (
	"testing"
	"time"
)

func TestCleanShowsEscapesAndBidiOverridesAsText(t *testing.T) {
	for in, want := range map[string]string{
		"plain <b>html</b>":      "plain <b>html</b>", // html/template escapes it
		"red \x1b[31mtext":       `red \x1b[31mtext`,
		"osc \x1b]52;c;aGk=\x07": `osc \x1b]52;c;aGk=\x07`,
		"c1 \u009b31m":           `c1 \x9b31m`,
		"bidi \u202eevil":        `bidi \u202eevil`,
		"line\nbreak\ttab":       "line break tab",
		"bad \xff utf8":          "bad \uFFFD utf8",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Minute: "1h30m", 45 * time.Second: "45s",
		2*time.Hour + 5*time.Second: "2h5s", 0: "0s", 1500 * time.Millisecond: "2s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
