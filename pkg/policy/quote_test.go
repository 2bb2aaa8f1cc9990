package policy

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// What QuoteCommand writes, SplitCommand reads back word for word, and a
// POSIX shell runs as those words and nothing else: no operator, expansion,
// substitution or redirection survives the quoting.
func TestQuoteCommandIsReadBackWordForWord(t *testing.T) {
	tests := [][]string{
		{"uptime"},
		{"echo", ""},
		{"echo", "it's", `"double"`, `back\slash`},
		{"systemctl", "status", "x;id;echo${IFS}INJECTED>PWNED"},
		{"echo", "a && b", "a || b", "a | b", "$(id)", "`id`", "${IFS}", "a\nb", "> f", "< f", "*", "?", "[a]", "~", "#c", "!x", "%1"},
		{"printf", "%s\n", "'", "''", `'\''`},
	}
	for _, words := range tests {
		quoted := QuoteCommand(words)
		got, err := SplitCommand(quoted)
		if err != nil {
			t.Fatalf("SplitCommand(QuoteCommand(%q)) = %v", words, err)
		}
		if diff := cmp.Diff(words, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("SplitCommand(QuoteCommand(%q)) (-want +got):\n%s", words, diff)
		}
	}
}

func TestQuoteCommandRunsLiterallyInEveryShell(t *testing.T) {
	shells := 0
	for _, sh := range []string{"/bin/sh", "/bin/bash", "/bin/dash"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		shells++
		t.Run(sh, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"x;id;echo${IFS}INJECTED>PWNED", "a && id", "a || id", "a | id", "$(id)", "`id`", "${IFS}", "a\nid",
				"> out", "< /etc/passwd", "*", "~", "#", "it's", ""}
			cmd := exec.Command(sh, "-c", QuoteCommand(append([]string{"printf", "[%s]\n"}, args...)))
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sh, err, out)
			}
			var want strings.Builder
			for _, a := range args {
				want.WriteString("[" + a + "]\n")
			}
			if string(out) != want.String() {
				t.Errorf("%s ran something else:\n%s\nwant:\n%s", sh, out, want.String())
			}
			if entries, _ := exec.Command("ls", "-A", dir).Output(); len(entries) > 0 {
				t.Errorf("%s wrote files: %s", sh, entries)
			}
		})
	}
	if shells == 0 {
		t.Fatal("no POSIX shell found")
	}
}
