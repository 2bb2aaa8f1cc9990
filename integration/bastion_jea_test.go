package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/proctest"
	"github.com/lockbox-ssh/lockbox/internal/sshdtest"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// readerCommands is the reader role's allowed_commands list and
// force_command line in the example policy.
var readerCommands = regexp.MustCompile(`(?m)^    allowed_commands:\n(?:      - .*\n)+    force_command: /usr/local/bin/lockbox-gate\n`)

// jeaPolicy gives the reader role patterns, run through the gate at gate:
// named in the role's force_command when inRole, else only as
// settings.command_gate, which the CA then puts in the certificate ("" leaves
// the default, /usr/local/bin/lockbox-gate, which tests do not install).
func jeaPolicy(patterns []string, gate string, inRole bool) func(name string, data []byte) []byte {
	quoted := make([]string, len(patterns))
	for i, p := range patterns {
		quoted[i] = fmt.Sprintf("%q", p)
	}
	return func(name string, data []byte) []byte {
		switch {
		case name == "roles.yaml":
			block := "    allowed_commands: [" + strings.Join(quoted, ", ") + "]\n"
			if inRole {
				block += "    force_command: " + gate + "\n"
			}
			out := readerCommands.ReplaceAll(data, []byte(block))
			if string(out) == string(data) {
				panic("jeaPolicy: the reader role's commands were not found in roles.yaml")
			}
			// Every role keeps a usable gate path.
			return []byte(strings.ReplaceAll(string(out), "/usr/local/bin/lockbox-gate", filepath.Join(bin, "lockbox-gate")))
		case name == "settings.yaml" && !inRole && gate != "":
			return append(data, []byte("  command_gate: "+gate+"\n")...)
		}
		return data
	}
}

// A role with allowed commands never lets the target's shell interpret a
// command: whether the policy names the gate in force_command or leaves it
// to the CA, the bastion sends the matched words quoted and the gate runs
// them without a shell. Each attempt either is refused at the bastion or
// runs as literal words; none runs id, writes a file or expands anything.
func TestAllowedCommandsAreNeverInterpretedByTheTargetsShell(t *testing.T) {
	t.Parallel()
	marks := t.TempDir() // an injection that works leaves a file here
	gate := filepath.Join(bin, "lockbox-gate")
	attempts := []struct {
		name    string
		command string
		want    string // stdout when run as literal words; "" means refused at the bastion
	}{
		{"semicolons and ${IFS}", "echo x;id;echo${IFS}INJECTED>" + marks + "/semicolon", "x;id;echo${IFS}INJECTED>" + marks + "/semicolon\n"},
		{"&&", "echo a && touch " + marks + "/and", "a && touch " + marks + "/and\n"},
		{"||", "ls /nonexistent || touch " + marks + "/or", ""},
		{"a pipe", "echo a | tee " + marks + "/pipe", "a | tee " + marks + "/pipe\n"},
		{"$(...)", "echo $(touch " + marks + "/subst)", "$(touch " + marks + "/subst)\n"},
		{"backquotes", "echo `touch " + marks + "/backquote`", "`touch " + marks + "/backquote`\n"},
		{"${IFS} as the only separator", "echo${IFS}x;touch${IFS}" + marks + "/ifs", ""},
		{"a newline", "echo a\ntouch " + marks + "/newline", ""},
		{"an output redirection", "echo a >" + marks + "/redirect", "a >" + marks + "/redirect\n"},
		{"an input redirection", "echo a </etc/passwd", "a </etc/passwd\n"},
		{"a glob", "echo /*", "/*\n"},
		{"a quoted word with syntax inside", `echo 'x;id' "$(id)"`, "x;id $(id)\n"},
	}
	setups := []struct {
		name   string
		inRole bool
		gate   string
	}{
		{"with force_command in the policy", true, gate},
		{"without force_command: the CA names settings.command_gate", false, gate},
		{"without force_command or a gate on the target: nothing runs", false, ""},
	}
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{editPolicy: jeaPolicy([]string{"echo **", "ls"}, setup.gate, setup.inRole)})
			b := w.bastion(nil, "--mfa_remember", "1h")
			w.enroll("alice")
			_, key := w.grant("alice", "reader", "1h")
			code := w.code("alice", 0)
			for _, a := range attempts {
				t.Run(a.name, func(t *testing.T) {
					r := w.run(b, key, code, nil, a.command)
					code = ""
					switch {
					case strings.Contains(r.stdout, "uid="):
						t.Fatalf("the target ran id: stdout %q", r.stdout)
					case a.want == "":
						if r.code == 0 || !strings.Contains(r.stderr, "allows only") {
							t.Errorf("exit %d, stdout %q, stderr %q; want a refusal at the bastion", r.code, r.stdout, r.stderr)
						}
					case setup.gate == "":
						if r.code != 127 || r.stdout != "" {
							t.Errorf("exit %d, stdout %q, stderr %q; want 127 (no gate at the default path)", r.code, r.stdout, r.stderr)
						}
					case r.code != 0 || r.stdout != a.want:
						t.Errorf("exit %d, stdout %q, stderr %q; want the words printed literally: %q", r.code, r.stdout, r.stderr, a.want)
					}
				})
			}
			entries, err := os.ReadDir(marks)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("an injection wrote %s", filepath.Join(marks, e.Name()))
			}
		})
	}
}

// A command of a role with allowed commands ends on the target when its
// session ends, whatever ends it: stock sshd refuses to signal a
// forced-command session and leaves the command running when the bastion's
// connection goes, so the gate ends it. For root, whose sessions sshd runs
// without privilege separation, and for another login; stdin is closed from
// the start (ssh < /dev/null), so only the channel's end can tell the gate.
func TestJEACommandEndsOnTheTargetWithItsSession(t *testing.T) {
	gate := filepath.Join(bin, "lockbox-gate")
	triggers := []struct {
		name     string
		flags    []string
		duration string
		revoke   bool
		want     string
	}{
		{"revocation", nil, "1h", true, "session ended: grant revoked by erin"},
		// Long enough for the command to be seen running on a loaded machine.
		{"idle", []string{"--idle_timeout", "6s"}, "1h", false, "session ended: idle for 6s"},
		{"cap", []string{"--session_cap", "6s"}, "1h", false, "session ended: session cap of 6s reached"},
		{"grant end", nil, "12s", false, "session ended: the grant ended at"},
	}
	for _, login := range []string{"root", sshdtest.NonRootLogin(t)} {
		for _, tr := range triggers {
			t.Run(login+"/"+tr.name, func(t *testing.T) {
				if login == "root" && os.Geteuid() != 0 {
					storetest.MissingPeer(t, "root, for sshd to log in to root")
				}
				w := newWorld(t, worldOptions{login: login, editPolicy: jeaPolicy([]string{"sleep *"}, gate, true)})
				b := w.bastion(nil, append([]string{"--mfa_remember", "1h"}, tr.flags...)...)
				w.enroll("alice")
				id, key := w.grant("alice", "reader", tr.duration)
				sleep := proctest.UniqueSleep()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd, _, stderr := w.ssh(ctx, b, key, w.code("alice", 0), nil, sleep...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				pid := proctest.WaitRunning(t, 30*time.Second, sleep...)
				started := time.Now()
				if owner := proctest.Owner(t, pid); owner != login {
					t.Fatalf("the command runs as %s, want %s", owner, login)
				}
				var trigger time.Time
				if tr.revoke {
					trigger = time.Now()
					w.ca.ok("erin", "revoke", id, "--reason", "end of the test")
				}
				err := cmd.Wait()
				cutOff := time.Now()
				if err == nil || !strings.Contains(stderr.String(), tr.want) {
					t.Fatalf("ssh: %v, stderr %q; want %q", err, stderr.String(), tr.want)
				}
				goneAfter := proctest.WaitGone(t, 10*time.Second, sleep...)
				if tr.revoke {
					t.Logf("%s, login %s: the user was cut off %v after the revocation; the command on the target was gone %v after it",
						tr.name, login, cutOff.Sub(trigger).Round(time.Millisecond), time.Since(trigger).Round(time.Millisecond))
				} else {
					t.Logf("%s, login %s: the command on the target was gone %v after the bastion cut the user off (it ran %v)",
						tr.name, login, goneAfter.Round(time.Millisecond), cutOff.Sub(started).Round(time.Millisecond))
				}
			})
		}
	}
}
