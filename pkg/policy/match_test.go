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
		{"double star takes further words", reader, "journalctl -u nginx sshd cron", true},
		{"double star takes no option", reader, "journalctl -u nginx --since today", false},
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
		{"an empty pattern word does not match an option", []string{"echo ''"}, "echo -n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchCommand(tt.patterns, tt.command); got != tt.want {
				t.Errorf("MatchCommand(%q, %q) = %v, want %v", tt.patterns, tt.command, got, tt.want)
			}
		})
	}
}

// A wildcard never matches an option: a command word that starts with '-'
// (or '+', which less, vim, tail and date read as commands or options)
// matches only a pattern word that starts with the same character. Each
// family's table holds the patterns docs/policy.md recommends and the
// write options of that command.
func TestMatchCommandKeepsOptionsOutOfWildcards(t *testing.T) {
	families := []struct {
		family   string
		patterns []string
		allowed  []string
		refused  []string
	}{
		{"the issue's journalctl pattern", []string{"journalctl -u * **"},
			[]string{"journalctl -u nginx", "journalctl -u nginx sshd"},
			[]string{"journalctl -u x --vacuum-time=1s", "journalctl -u x --vacuum-size=1", "journalctl -u x --vacuum-files=1",
				"journalctl -u x --rotate", "journalctl -u x --flush", "journalctl -u x --sync", "journalctl -u x --update-catalog",
				"journalctl -u x --relinquish-var", "journalctl -u x --setup-keys", "journalctl -u --rotate", "journalctl -u x -f"}},
		{"journalctl", []string{"journalctl -u *", "journalctl -u * -n *", "journalctl -u * --since=*", "journalctl -u * --since=* --until=*"},
			[]string{"journalctl -u nginx", "journalctl -u nginx -n 50", "journalctl -u nginx --since=today",
				"journalctl -u nginx '--since=2026-01-02 10:00' --until=-1h", "journalctl -u nginx '--since=x --vacuum-time=1s'"},
			[]string{"journalctl -u nginx -n --rotate", "journalctl -u nginx -n -5", "journalctl --vacuum-time=1s -u x",
				"journalctl -u nginx --since today", "journalctl -u --flush -n 1"}},
		{"systemctl", []string{"systemctl status *", "systemctl --no-pager status *", "systemctl is-active *"},
			[]string{"systemctl status nginx", "systemctl --no-pager status sshd.service", "systemctl is-active cron"},
			[]string{"systemctl status --force", "systemctl status -H", "systemctl status --host=other", "systemctl status -M x",
				"systemctl is-active --runtime", "systemctl stop nginx", "systemctl status nginx sshd"}},
		{"tail", []string{"tail -n * /var/log/syslog", "tail -n * /var/log/nginx/*.log"},
			[]string{"tail -n 100 /var/log/syslog", "tail -n 5 /var/log/nginx/access.log"},
			[]string{"tail -n -f /var/log/syslog", "tail -n +1 /var/log/syslog", "tail -n 5 -f", "tail -n 5 --follow=name",
				"tail -n 5 -/var/log/nginx/x.log"}},
		{"find", []string{"find /var/log -name *", "find /var/log -name * -mtime *"},
			[]string{"find /var/log -name '*.gz'", "find /var/log -name syslog -mtime 1"},
			[]string{"find /var/log -name -delete", "find /var/log -name x -delete", "find /var/log -name x -mtime -exec",
				"find /var/log -name x -mtime -1", "find /var/log -name -fprint"}},
		{"less", []string{"less /var/log/syslog", "less -- /var/log/syslog"},
			[]string{"less /var/log/syslog", "less -- /var/log/syslog"},
			[]string{"less +!id /var/log/syslog", "less -- +!id", "less '-+F' /var/log/syslog", "less /var/log/syslog -o/tmp/x"}},
		{"explicit option patterns", []string{"date +*", "ls -* *", "journalctl -u * -**"},
			[]string{"date +%s", "ls -la /tmp", "journalctl -u nginx --since=today"},
			[]string{"date -s 2000-01-01", "ls /tmp -la", "journalctl -u nginx +x"}},
	}
	for _, f := range families {
		t.Run(f.family, func(t *testing.T) {
			for _, c := range f.allowed {
				if !MatchCommand(f.patterns, c) {
					t.Errorf("MatchCommand(%q, %q) = false, want true", f.patterns, c)
				}
			}
			for _, c := range f.refused {
				if MatchCommand(f.patterns, c) {
					t.Errorf("MatchCommand(%q, %q) = true, want false: a wildcard admitted an option", f.patterns, c)
				}
			}
		})
	}
}

// The example policy's read-only roles admit what reads and no option that
// writes (journal vacuuming, rotation, flushing, catalog updates) or
// follows for ever.
func TestExampleReadOnlyRolesAdmitNoWritingOption(t *testing.T) {
	p, err := LoadDir("../../policy")
	if err != nil {
		t.Fatal(err)
	}
	reads := []string{"systemctl status nginx", "journalctl -u nginx", "journalctl -u nginx -n 50",
		"journalctl -u nginx --since=today", "df -h", "uptime", "tail -n 100 /var/log/syslog"}
	writes := []string{"journalctl -u x --vacuum-time=1s", "journalctl -u x --vacuum-size=1K", "journalctl -u x --vacuum-files=1",
		"journalctl -u x --rotate", "journalctl -u x --flush", "journalctl -u x --sync", "journalctl -u x --update-catalog",
		"journalctl -u x --relinquish-var", "journalctl -u x --smart-relinquish-var", "journalctl -u x --setup-keys",
		"journalctl -u --rotate", "journalctl -u x -n --flush", "journalctl -u x --since=today --rotate", "journalctl -u x -f",
		"systemctl status --force", "systemctl status -H other", "systemctl status x --now", "tail -n -f /var/log/syslog",
		"tail -n 5 -f /var/log/syslog", "df -h --output=source,target /", "uptime --since"}
	for _, role := range []string{"reader", "health"} {
		patterns := p.Roles[role].AllowedCommands
		for _, c := range reads {
			if role == "reader" && !MatchCommand(patterns, c) {
				t.Errorf("role %s refuses %q", role, c)
			}
		}
		for _, c := range writes {
			if MatchCommand(patterns, c) {
				t.Errorf("role %s admits %q", role, c)
			}
		}
	}
}
