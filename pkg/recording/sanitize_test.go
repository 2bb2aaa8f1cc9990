package recording

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// dangerousSequences are removed whole by Sanitize.
var dangerousSequences = []struct{ name, seq string }{
	{"OSC 52 clipboard, BEL", "\x1b]52;c;ZWNobyBwd25lZA==\x07"},
	{"OSC 52 clipboard, ST", "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\"},
	{"OSC 0 title", "\x1b]0;evil title\x07"},
	{"OSC 2 title", "\x1b]2;evil\x1b\\"},
	{"OSC 8 hyperlink", "\x1b]8;;http://x\x1b\\"},
	{"OSC colour query", "\x1b]10;?\x07"},
	{"DCS DECRQSS", "\x1bP$qm\x1b\\"},
	{"DCS ignores BEL", "\x1bPq\x07#0;2;0;0;0\x1b\\"},
	{"APC", "\x1b_Gf=100;AAAA\x1b\\"},
	{"PM", "\x1b^private\x1b\\"},
	{"SOS", "\x1bXstring\x1b\\"},
	{"screen title", "\x1bkname\x1b\\"},
	{"C1 OSC", "\x9d52;c;AAAA\x07"},
	{"C1 OSC ended by C1 ST", "\x9d0;t\x9c"},
	{"C1 DCS", "\x90$qm\x9c"},
	{"C1 APC", "\x9fx\x1b\\"},
	{"C1 PM", "\x9ex\x1b\\"},
	{"C1 SOS", "\x98x\x1b\\"},
	{"UTF-8 C1 OSC", "\xc2\x9d0;t\xc2\x9c"},
	{"UTF-8 C1 DCS", "\xc2\x90$qm\x1b\\"},
	{"DSR status", "\x1b[5n"},
	{"DSR cursor position", "\x1b[6n"},
	{"DEC cursor position", "\x1b[?6n"},
	{"DA1", "\x1b[c"},
	{"DA1 zero", "\x1b[0c"},
	{"DA2", "\x1b[>c"},
	{"DA3", "\x1b[=c"},
	{"report title", "\x1b[21t"},
	{"report window size", "\x1b[14t"},
	{"report text area", "\x1b[18t"},
	{"iconify window", "\x1b[2t"},
	{"move window", "\x1b[3;0;0t"},
	{"DECRQM private", "\x1b[?2026$p"},
	{"DECRQM ANSI", "\x1b[4$p"},
	{"XTVERSION", "\x1b[>q"},
	{"XTVERSION zero", "\x1b[>0q"},
	{"DECREQTPARM", "\x1b[0x"},
	{"DECRQCRA checksum", "\x1b[1;1;1;1;1;1*y"},
	{"XTQMODKEYS", "\x1b[?4m"},
	{"XTSMGRAPHICS", "\x1b[?1;1;0S"},
	{"XTREPORTSGR", "\x1b[1;1;1;1#|"},
	{"kitty keyboard query", "\x1b[?u"},
	{"kitty keyboard push", "\x1b[>1u"},
	{"media copy", "\x1b[5i"},
	{"locator request", "\x1b[1'|"},
	{"DECID", "\x1bZ"},
	{"C1 DECID", "\x9a"},
	{"C1 CSI DSR", "\x9b6n"},
	{"C1 CSI DA", "\x9bc"},
	{"C1 CSI window report", "\x9b21t"},
	{"UTF-8 C1 CSI DSR", "\xc2\x9b6n"},
	{"leave UTF-8 mode", "\x1b%@"},
	{"DSR with control inside", "\x1b[6\x00n"}, // the NUL is kept, see below
}

// harmlessSequences pass through Sanitize unchanged.
var harmlessSequences = []struct{ name, seq string }{
	{"plain text", "hello, world\r\n"},
	{"SGR colours", "\x1b[1;31mred\x1b[0m \x1b[38;5;208m\x1b[38;2;1;2;3m\x1b[38:2::1:2:3m"},
	{"cursor moves", "\x1b[H\x1b[10;20H\x1b[3A\x1b[2B\x1b[C\x1b[D\x1b7\x1b8\x1bM"},
	{"erase", "\x1b[2J\x1b[K\x1b[1K"},
	{"alternate screen", "\x1b[?1049h\x1b[?1049l\x1b[?25l\x1b[?25h"},
	{"scrolling region", "\x1b[5;20r\x1b[S\x1b[T"},
	{"cursor style", "\x1b[2 q"},
	{"charset", "\x1b(0lqk\x1b(B"},
	{"keypad", "\x1b=\x1b>"},
	{"soft reset", "\x1b[!p"},
	{"restore cursor", "\x1b[u\x1b[s"},
	{"C1 CSI SGR", "\x9b1m\xc2\x9b0m"},
	{"C0 controls", "\a\b\t\n\v\f\r\x0e\x0f"},
	{"UTF-8 with C1-range continuation bytes", "é Ő Ü à Ŝ Ÿ Ğ Ő𝄞 € ✓ 日本"},
	{"NBSP and Latin-1 supplement", "\u00a0\u00bf\u00c0"},
	{"C1 controls other than introducers", "\x84\x85\x8d"},
	{"invalid UTF-8 bytes", "\xff\xfe\xc0\xaf"},
	{"ESC backslash alone", "\x1b\\"},
}

func TestSanitizeRemovesDangerousSequences(t *testing.T) {
	for _, tc := range dangerousSequences {
		t.Run(tc.name, func(t *testing.T) {
			in := "before" + tc.seq + "after"
			want := "beforeafter"
			if strings.Contains(tc.seq, "\x00") {
				want = "before\x00after" // a C0 control inside a sequence is still executed
			}
			checkSanitizeEverySplit(t, in, want)
		})
	}
}

func TestSanitizeKeepsHarmlessSequences(t *testing.T) {
	for _, tc := range harmlessSequences {
		t.Run(tc.name, func(t *testing.T) {
			in := "a" + tc.seq + "b"
			checkSanitizeEverySplit(t, in, in)
		})
	}
}

func TestSanitizeDropsUnfinishedOrBrokenSequences(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unterminated OSC swallows the rest", "a\x1b]0;title and more", "a"},
		{"unfinished CSI at the end", "a\x1b[6", "a"},
		{"lone ESC at the end", "a\x1b", "a"},
		{"CSI broken by a non-ASCII byte", "a\x1b[6\xc3\xa9n", "aén"},
		{"CSI cancelled by CAN", "a\x1b[6\x18n", "a\x18n"},
		{"CSI restarted by ESC", "a\x1b[6\x1b[1m", "a\x1b[1m"},
		{"ESC inside OSC ends it", "\x1b]0;x\x1b[1mz", "\x1b[1mz"},
		{"BEL does not end DCS", "\x1bPx\x07y\x1b\\z", "z"},
		{"overlong CSI dropped", "\x1b[" + strings.Repeat("1;", 200) + "m!", "!"},
		{"held 0xC2 at the end", "a\xc2", "a"},
		{"0xC2 before ASCII kept", "\xc2a", "\xc2a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkSanitizeEverySplit(t, tc.in, tc.want)
		})
	}
}

// checkSanitizeEverySplit checks Sanitize(in) == want, and that a Sanitizer
// gives the same fed in two writes split at every byte boundary and one
// byte at a time.
func checkSanitizeEverySplit(t *testing.T, in, want string) {
	t.Helper()
	if got := string(Sanitize([]byte(in))); got != want {
		t.Fatalf("Sanitize(%q) = %q, want %q", in, got, want)
	}
	for i := 0; i <= len(in); i++ {
		if got := sanitizeChunks([]byte(in[:i]), []byte(in[i:])); got != want {
			t.Errorf("split at %d: got %q, want %q", i, got, want)
		}
	}
	var bytewise [][]byte
	for i := range len(in) {
		bytewise = append(bytewise, []byte{in[i]})
	}
	if got := sanitizeChunks(bytewise...); got != want {
		t.Errorf("byte by byte: got %q, want %q", got, want)
	}
}

func sanitizeChunks(chunks ...[]byte) string {
	var out bytes.Buffer
	s := NewSanitizer(&out)
	for _, c := range chunks {
		if n, err := s.Write(c); err != nil || n != len(c) {
			return "write failed"
		}
	}
	return out.String()
}

func TestSanitizerWriteErrorIsSticky(t *testing.T) {
	s := NewSanitizer(failingWriter{})
	if _, err := s.Write([]byte("a")); err != errDiskFull {
		t.Fatalf("Write = %v, want the writer's error", err)
	}
	if _, err := s.Write([]byte("")); err != errDiskFull {
		t.Errorf("Write after an error = %v, want the same error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// unsafeIn reports the first sequence in out that Sanitize must never let
// through, reading out as a UTF-8 terminal would, or "".
func unsafeIn(out []byte) string {
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRune(out[i:])
		b := out[i]
		if r == utf8.RuneError && size == 1 {
			// A terminal replaces the maximal valid prefix of a broken
			// character ("\xe3\x90" then "x") as one unit; its
			// continuation bytes are not C1 controls.
			for k := 2; k < utf8.UTFMax && i+k <= len(out) && !utf8.FullRune(out[i:i+k]); k++ {
				size = k
			}
		}
		csiLen := 0
		switch {
		case b == esc && i+1 < len(out):
			switch out[i+1] {
			case ']', 'P', '_', '^', 'X', 'Z':
				return "ESC " + string(out[i+1])
			case '[':
				csiLen = 2
			}
		case r == 0x9B || (r == utf8.RuneError && size == 1 && b == 0x9B):
			csiLen = size
		case r == 0x90 || r == 0x98 || r == 0x9A || r == 0x9D || r == 0x9E || r == 0x9F:
			return "C1 string introducer or DECID"
		case r == utf8.RuneError && size == 1 && (b == 0x90 || b == 0x98 || b == 0x9A || b == 0x9D || b == 0x9E || b == 0x9F):
			return "raw C1 string introducer or DECID"
		}
		if csiLen > 0 {
			j := i + csiLen
			for j < len(out) && out[j] >= 0x20 && out[j] <= 0x3F {
				j++
			}
			if j < len(out) && (out[j] == 'n' || out[j] == 'c' || out[j] == 't') {
				return "CSI ending in " + string(out[j])
			}
		}
		i += size
	}
	return ""
}
