package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// Exit statuses of the gate itself; a command that runs exits with its own.
const (
	exitRefused    = 1
	exitUsage      = 2
	exitCannotExec = 126
	exitNotFound   = 127
)

// startFunc runs the program at path with argv and env (see supervise)
// and returns the exit status to use; an error means it did not start.
type startFunc func(path string, argv, env []string) (int, error)

// run is the whole gate: args are the arguments after the program name,
// environ the process environment ("KEY=value" entries, passed on unchanged
// to the command), start runs the allowed command. It returns the exit
// status: the command's, or the gate's own for a refusal or a failure.
func run(args, environ []string, start startFunc, stderr io.Writer) int {
	patterns, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "lockbox-gate: %v\nusage: lockbox-gate -- PATTERN [PATTERN...]\n", err)
		return exitUsage
	}
	command, _ := lookupEnv(environ, "SSH_ORIGINAL_COMMAND")
	if command == "" {
		fmt.Fprintln(stderr, "lockbox-gate: this role runs only these commands:")
		for _, p := range patterns {
			fmt.Fprintf(stderr, "  %s\n", escape(p))
		}
		return exitRefused
	}
	words, err := policy.SplitCommand(command)
	if err != nil || len(words) == 0 || !policy.MatchCommand(patterns, command) {
		fmt.Fprintf(stderr, "lockbox-gate: command not allowed for this role: %s\n", escape(command))
		return exitRefused
	}
	path, err := exec.LookPath(words[0])
	if err != nil {
		fmt.Fprintf(stderr, "lockbox-gate: %s: command not found\n", escape(words[0]))
		return exitNotFound
	}
	status, err := start(path, words, environ)
	if err != nil {
		fmt.Fprintf(stderr, "lockbox-gate: cannot run %s: %v\n", escape(path), err)
		return exitCannotExec
	}
	return status
}

// parseArgs returns the patterns of "-- PATTERN...". At least one pattern is
// required: MatchCommand allows any command for an empty list, and a gate
// configured with none must not open everything.
func parseArgs(args []string) ([]string, error) {
	if len(args) == 0 || args[0] != "--" {
		return nil, errors.New(`expected "--" before the patterns`)
	}
	if len(args) == 1 {
		return nil, errors.New("no patterns given")
	}
	return args[1:], nil
}

// lookupEnv finds key in environ; like the C library, the first entry wins.
func lookupEnv(environ []string, key string) (string, bool) {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// escape makes s safe to print on the user's terminal: control and format
// characters (escape sequences, bidi overrides) and invalid UTF-8 are shown
// as Go-style escapes, and backslashes are doubled so the result is
// unambiguous.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x100 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
