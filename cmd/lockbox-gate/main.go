// Command lockbox-gate is the command gate on Lockbox targets. A role with
// allowed commands gets a certificate whose force-command is
//
//	/usr/local/bin/lockbox-gate -- 'PATTERN' 'PATTERN' ...
//
// sshd runs it through the login's shell with the client's requested command
// in SSH_ORIGINAL_COMMAND. The gate splits that command into words
// (policy.SplitCommand), checks it against the patterns (policy.MatchCommand),
// and either replaces itself with the command, run directly and never through
// a shell, or refuses with a message on stderr and exit status 1. An
// interactive login (no command) is refused with the list of allowed patterns.
//
// Exit status: the command's own when it runs; 1 when refused; 2 for a usage
// error (a misconfigured force-command); 126 when the command cannot be
// executed and 127 when it is not found, as a shell would.
package main

import (
	"os"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), syscall.Exec, os.Stderr))
}
