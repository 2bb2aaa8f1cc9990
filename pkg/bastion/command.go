package bastion

import (
	"errors"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// errNoExecCommand means the CA allowed a command for a role with allowed
// commands but did not say how to send it: the client's own string would
// reach the target's shell, which could read it as more than the words the
// CA matched.
var errNoExecCommand = errors.New("the CA gave no quoted command for a role with allowed commands")

// execCommand is what the bastion asks the target to run for the client's
// command. For a role with allowed commands that is the CA's ExecCommand,
// the matched words each single-quoted, never the client's string, which
// the target's login shell would parse again (sshd runs every command,
// and every force-command, through it). Without allowed commands the role
// may run anything, shell syntax included, and the command goes as sent.
func execCommand(grant *wire.SessionGrant, command string) (string, error) {
	if len(grant.AllowedCommands) == 0 {
		return command, nil
	}
	if grant.ExecCommand == "" {
		return "", errNoExecCommand
	}
	return grant.ExecCommand, nil
}
