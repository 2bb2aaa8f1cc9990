package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		name    string
		command string
		want    []string
		wantErr bool
	}{
		{"spaces and tabs separate words", "  ls \t -l  /tmp ", []string{"ls", "-l", "/tmp"}, false},
		{"empty command has no words", "", nil, false},
		{"single quotes keep everything", `echo 'a b' '$HOME \n "x"'`, []string{"echo", "a b", `$HOME \n "x"`}, false},
		{"double quotes group words", `echo "a b"c`, []string{"echo", "a bc"}, false},
		{"backslash in double quotes escapes only some characters", `echo "\" \\ \$ \a"`, []string{"echo", `" \ $ \a`}, false},
		{"backslash outside quotes escapes anything", `echo a\ b \'x \\`, []string{"echo", "a b", "'x", `\`}, false},
		{"backslash-newline joins", "echo a\\\nb", []string{"echo", "ab"}, false},
		{"empty quotes make an empty word", `echo "" ''`, []string{"echo", "", ""}, false},
		{"nothing is expanded", "echo $HOME `id` ~ *.go $(id)", []string{"echo", "$HOME", "`id`", "~", "*.go", "$(id)"}, false},
		{"shell operators are ordinary characters", "df -h; rm -rf /", []string{"df", "-h;", "rm", "-rf", "/"}, false},
		{"newline separates words", "a\nb", []string{"a", "b"}, false},
		{"unbalanced single quote", `echo 'abc`, nil, true},
		{"unbalanced double quote", `echo "abc`, nil, true},
		{"escaped closing quote leaves it unbalanced", `echo "abc\"`, nil, true},
		{"trailing backslash", `echo \`, nil, true},
		{"NUL byte", "echo a\x00b", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitCommand(tt.command)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SplitCommand(%q) error = %v, want error %v", tt.command, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("SplitCommand(%q) (-want +got):\n%s", tt.command, diff)
			}
		})
	}
}

func TestMatchCommand(t *testing.T) {
	reader := []string{"systemctl status *", "journalctl -u * **", "df -h", "uptime", "cat /var/log/*", "echo ?x"}
	tests := []struct {
		name     string
		patterns []string
		command  string
		want     bool
	}{
		{"exact words", reader, "df -h", true},
		{"extra spaces do not matter", reader, "  df   -h ", true},
		{"quoted words are compared unquoted", reader, `'df' "-h"`, true},
		{"star matches one word", reader, "systemctl status nginx", true},
		{"star matches an empty word", reader, "systemctl status ''", true},
		{"star does not match two words", reader, "systemctl status nginx sshd", false},
		{"quoted space keeps one word", reader, "systemctl status 'nginx sshd'", true},
		{"missing word", reader, "systemctl status", false},
		{"extra word", reader, "df -h /", false},
		{"star crosses slashes", reader, "cat /var/log/nginx/access.log", true},
		{"prefix must match", reader, "cat /etc/shadow", false},
		{"double star takes no further words", reader, "journalctl -u nginx", true},
		{"double star takes further words", reader, "journalctl -u nginx --since today -n 50", true},
		{"double star still needs the words before it", reader, "journalctl -u", false},
		{"question mark matches one character", reader, "echo ax", true},
		{"question mark matches one multibyte character", reader, "echo éx", true},
		{"question mark does not match none", reader, "echo x", false},
		{"question mark does not match two", reader, "echo abx", false},
		{"command is case sensitive", reader, "DF -h", false},
		{"semicolon is a literal argument", reader, "df -h;", false},
		{"shell operator words do not match", reader, "df -h ; rm -rf /", false},
		{"NUL never matches", reader, "uptime\x00", false},
		{"newline never matches", reader, "uptime\nrm -rf /", false},
		{"unbalanced quote never matches", reader, "uptime '", false},
		{"empty patterns allow any command", nil, "rm -rf /", true},
		{"empty patterns still refuse a newline", nil, "a\nb", false},
		{"empty patterns still refuse what does not split", nil, `echo "`, false},
		{"empty command matches no pattern", reader, "", false},
		{"lone double star matches anything", []string{"**"}, "anything at all", true},
		{"double star in the middle is one word", []string{"a ** c"}, "a b c", true},
		{"double star in the middle is not several", []string{"a ** c"}, "a b b c", false},
		{"backtracking star", []string{"x *a*b*c"}, "x aaabbbcbc", true},
		{"backtracking star fails cleanly", []string{"x *a*b*c"}, "x aaabbbcb", false},
		{"unsplittable pattern never matches", []string{"echo '"}, "echo '", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchCommand(tt.patterns, tt.command); got != tt.want {
				t.Errorf("MatchCommand(%q, %q) = %v, want %v", tt.patterns, tt.command, got, tt.want)
			}
		})
	}
}
