package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
