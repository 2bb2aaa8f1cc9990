package web

import (
	"testing"
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
