// Command lockbox-gate is the command gate on Lockbox targets. A role with
// allowed commands gets a certificate whose force-command is
//
//	/usr/local/bin/lockbox-gate -- 'PATTERN' 'PATTERN' ...
//
// sshd runs it through the login's shell with the client's requested command
// in SSH_ORIGINAL_COMMAND. The gate splits that command into words
// (policy.SplitCommand), checks it against the patterns (policy.MatchCommand),
// and either runs the command, directly and never through a shell, or
// refuses with a message on stderr and exit status 1. An interactive login
// (no command) is refused with the list of allowed patterns.
//
// The command runs as the gate's child in a process group of its own, which
// the gate ends (SIGTERM, then SIGKILL after 2s) when sshd's side of the
// session channel goes: stock sshd never signals a forced-command session,
// so without this a command would outlive the session's end, revocation,
// idle timeout, cap and grant end. See supervise_linux.go.
//
// Exit status: the command's own when it runs (a command killed by SIGHUP,
// SIGINT, SIGTERM or SIGKILL kills the gate with it; other signals give
// 128+N); 1 when refused; 2 for a usage error (a misconfigured
// force-command); 126 when the command cannot be executed and 127 when it is
// not found, as a shell would.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), supervise, os.Stderr))
}
