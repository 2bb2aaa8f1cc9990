package policy

import (
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/inert"
)

// hiddenText is text that could disguise what a terminal or a page shows:
// each must be refused in every free-text field.
var hiddenText = map[string]string{
	"an escape sequence (C0)":           "ok \x1b[2J",
	"a C1 control (CSI)":                "ok \u009b2J",
	"a C1 control (OSC)":                "ok \u009d52;c;cm0=\u009c",
	"DEL":                               "ok\x7f",
	"a newline":                         "ok\nfine",
	"a tab":                             "ok\tfine",
	"a bidi override (RLO)":             "invoice \u202egnp.exe",
	"a bidi isolate (RLI)":              "ok \u2067x",
	"a bidi mark (RLM)":                 "ok \u200f",
	"an Arabic letter mark":             "ok \u061c",
	"a zero-width space":                "o\u200bk",
	"a line separator":                  "ok\u2028fine",
	"a paragraph separator":             "ok\u2029fine",
	"invisible tag characters":          "ok \U000E0041\U000E0042",
	"a byte-order mark inside the text": "ok\ufefffine",
	"invalid UTF-8":                     "ok \xff",
}

func TestCheckTextRefusesWhatCouldDisguiseText(t *testing.T) {
	for name, s := range hiddenText {
		if err := CheckText(s); err == nil {
			t.Errorf("%s (%q) accepted", name, s)
		}
	}
	for _, s := range []string{"", "disk full on db-1", "ünïcödé, 日本語, emoji 👩\u200d💻 (with a joiner)", "می\u200cخواهم (with a non-joiner)", strings.Repeat("x", 5000)} {
		if err := CheckText(s); err != nil {
			t.Errorf("CheckText(%q) = %v, want nil", s, err)
		}
	}
}

// What the input rule accepts, the display rule leaves as it is: text
// that passed CheckText never needs escaping when shown.
func FuzzCheckTextIsStricterThanDisplay(f *testing.F) {
	for _, s := range hiddenText {
		f.Add(s)
	}
	f.Add("disk full on db-1")
	f.Add("👩\u200d💻 می\u200cخواهم")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckText(s) != nil {
			return
		}
		if got := inert.Text(s); got != s {
			t.Fatalf("CheckText accepted %q, which shows as %q", s, got)
		}
	})
}
