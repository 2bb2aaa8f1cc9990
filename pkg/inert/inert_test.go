package inert

import "testing"

func TestCleanShowsControlsAndBidiEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, ünïcode", "plain text, ünïcode"},
		{"osc52 \x1b]52;c;cm0=\x07", `osc52 \x1b]52;c;cm0=\x07`},
		{"csi \x1b[2J", `csi \x1b[2J`},
		{"c1 \u009b2J", `c1 \x9b2J`},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`},
		{"lines\nand\ttabs", "lines and tabs"},
		{"del\x7f", `del\x7f`},
		{"invalid \xff utf-8", "invalid \uFFFD utf-8"},
	}
	for _, tc := range tests {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
