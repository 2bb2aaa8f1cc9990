package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// execCall records what run asked execve to do.
type execCall struct {
	Path string
	Argv []string
	Env  []string
}

func TestRun(t *testing.T) {
	echo, err := exec.LookPath("echo")
	if err != nil {
		t.Fatalf("no echo on PATH: %v", err)
	}
	allowed := []string{"--", "uptime", "echo *", "ls -l **", "cat /var/log/*.log"}
	tests := []struct {
		name       string
		args       []string
		command    string // SSH_ORIGINAL_COMMAND; "" leaves it unset
		execErr    error
		wantStatus int
		wantExec   *execCall // and the command's exit status is wantStatus
		wantStderr string    // a substring of stderr; "" means stderr must be empty
	}{
		{
			name: "allowed command runs its words directly", args: allowed, command: "echo 'hello world'",
			wantExec: &execCall{Path: echo, Argv: []string{"echo", "hello world"}},
		},
		{
			name: "the command's exit status is the gate's", args: allowed, command: "uptime",
			wantExec: &execCall{Argv: []string{"uptime"}}, wantStatus: 3,
		},
		{
			name: "trailing ** allows further words", args: allowed, command: "ls -l /tmp /var",
			wantExec: &execCall{Argv: []string{"ls", "-l", "/tmp", "/var"}},
		},
		{
			name: "shell metacharacters stay words, never a shell", args: allowed, command: "echo ;reboot",
			wantExec: &execCall{Path: echo, Argv: []string{"echo", ";reboot"}},
		},
		{
			name: "a command no pattern matches is refused", args: allowed, command: "rm -rf /",
			wantStatus: exitRefused, wantStderr: "lockbox-gate: command not allowed for this role: rm -rf /\n",
		},
		{
			name: "extra words without ** are refused", args: allowed, command: "uptime -p",
			wantStatus: exitRefused, wantStderr: "not allowed for this role: uptime -p\n",
		},
		{
			name: "control characters are escaped in the refusal", args: allowed, command: "cat \x1b[2J\u202e",
			wantStatus: exitRefused, wantStderr: `not allowed for this role: cat \x1b[2J\u202e` + "\n",
		},
		{
			name: "a newline never matches", args: allowed, command: "echo a\nreboot",
			wantStatus: exitRefused, wantStderr: `not allowed for this role: echo a\nreboot` + "\n",
		},
		{
			name: "unbalanced quotes are refused", args: allowed, command: "echo 'oops",
			wantStatus: exitRefused, wantStderr: "not allowed for this role: echo 'oops\n",
		},
		{
			name: "an interactive login lists the patterns", args: allowed,
			wantStatus: exitRefused,
			wantStderr: "lockbox-gate: this role runs only these commands:\n  uptime\n  echo *\n  ls -l **\n  cat /var/log/*.log\n",
		},
		{
			name: "missing -- is a usage error", args: []string{"uptime"}, command: "uptime",
			wantStatus: exitUsage, wantStderr: `expected "--"`,
		},
		{
			name: "no arguments is a usage error", command: "uptime",
			wantStatus: exitUsage, wantStderr: "usage: lockbox-gate -- PATTERN",
		},
		{
			name: "no patterns is a usage error, not allow-all", args: []string{"--"}, command: "uptime",
			wantStatus: exitUsage, wantStderr: "no patterns given",
		},
		{
			name: "an unknown program is reported as not found", args: []string{"--", "lockbox-no-such-program-*"},
			command: "lockbox-no-such-program-x", wantStatus: exitNotFound,
			wantStderr: "lockbox-gate: lockbox-no-such-program-x: command not found\n",
		},
		{
			name: "a failed exec is reported", args: allowed, command: "echo hi", execErr: errors.New("permission denied"),
			wantExec:   &execCall{Path: echo, Argv: []string{"echo", "hi"}},
			wantStatus: exitCannotExec, wantStderr: "lockbox-gate: cannot run " + echo + ": permission denied\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"HOME=/root", "PATH=/usr/bin:/bin"}
			if tt.command != "" {
				env = append(env, "SSH_ORIGINAL_COMMAND="+tt.command)
			}
			var got *execCall
			start := func(path string, argv, envv []string) (int, error) {
				got = &execCall{Path: path, Argv: argv, Env: envv}
				return tt.wantStatus, tt.execErr
			}
			var stderr strings.Builder
			status := run(tt.args, env, start, &stderr)

			if tt.wantExec == nil && got != nil {
				t.Fatalf("run executed %q, want a refusal", got.Argv)
			}
			if tt.wantExec != nil {
				if got == nil {
					t.Fatalf("run did not execute; status %d, stderr %q", status, stderr.String())
				}
				if diff := cmp.Diff(tt.wantExec.Argv, got.Argv); diff != "" {
					t.Errorf("argv (-want +got):\n%s", diff)
				}
				if tt.wantExec.Path != "" && got.Path != tt.wantExec.Path {
					t.Errorf("path = %q, want %q", got.Path, tt.wantExec.Path)
				}
				if diff := cmp.Diff(env, got.Env); diff != "" {
					t.Errorf("environment not passed on unchanged (-want +got):\n%s", diff)
				}
			}
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if tt.wantStderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := map[string]string{
		"plain words":     "plain words",
		"tab\there":       `tab\there`,
		"bell\a":          `bell\x07`,
		"del\x7f":         `del\x7f`,
		"c1\u009b31m":     `c1\x9b31m`,
		"bidi\u202eevil":  `bidi\u202eevil`,
		"bad\xffutf8":     `bad\xffutf8`,
		`back\slash`:      `back\\slash`,
		"ünïcödé is fine": "ünïcödé is fine",
	}
	for in, want := range tests {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}
