package policy

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
)

// DefaultCommandGate is where targets install lockbox-gate (see
// scripts/setup-target.sh), and so the force-command of roles with
// allowed_commands that name none, unless settings.command_gate says
// otherwise.
const DefaultCommandGate = "/usr/local/bin/lockbox-gate"

// gatePathRE is an absolute path to a program named lockbox-gate, in
// characters that every shell takes literally: sshd runs a force-command
// through the login's shell, and the gate's path must reach it as written.
var gatePathRE = regexp.MustCompile(`^(/[A-Za-z0-9._+-]+)*/lockbox-gate$`)

// errNotGate means a force_command that must run the command gate does not.
var errNotGate = errors.New("is not the command gate")

// checkGatePath reports why path cannot be the force-command of a role with
// allowed_commands: only the gate enforces them on the target, and only a
// bare path (the CA appends the patterns) keeps the shell out of it.
func checkGatePath(path string) error {
	if !gatePathRE.MatchString(path) {
		return fmt.Errorf("%q %w: give the absolute path of lockbox-gate on the targets (letters, digits, '.', '_', '+', '-' and '/'; no arguments), such as %s",
			path, errNotGate, DefaultCommandGate)
	}
	return nil
}

// isGate reports whether a force_command runs the command gate.
func isGate(forceCommand string) bool { return gatePathRE.MatchString(forceCommand) }

// CertForceCommand is the force-command a certificate for role carries:
// its force_command, or, when the role has allowed commands, the command
// gate followed by "--" and each pattern single-quoted, so the gate on the
// target enforces exactly the policy's patterns without a copy of the
// policy. (sshd runs a force-command through the login's shell.) A role
// with allowed commands always gets the gate: the policy fills in
// settings.command_gate when it names none, and a role made some other way
// gets the default, never a certificate that lets the shell read the
// client's command.
func (r *Role) CertForceCommand() string {
	if len(r.AllowedCommands) == 0 {
		return r.ForceCommand
	}
	return cmp.Or(r.ForceCommand, DefaultCommandGate) + " -- " + QuoteCommand(r.AllowedCommands)
}
