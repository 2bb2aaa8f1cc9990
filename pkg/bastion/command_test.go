package bastion

import (
	"errors"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

func TestExecCommandSendsTheCAsQuotedWordsForRolesWithAllowedCommands(t *testing.T) {
	jea := []string{"systemctl status *"}
	tests := []struct {
		name    string
		grant   wire.SessionGrant
		command string
		want    string
		wantErr error
	}{
		{"allowed commands: the CA's quoted words, not the client's string",
			wire.SessionGrant{AllowedCommands: jea, ExecCommand: `'systemctl' 'status' 'x;id'`}, "systemctl status x;id", `'systemctl' 'status' 'x;id'`, nil},
		{"allowed commands without the CA's quoted words: refused",
			wire.SessionGrant{AllowedCommands: jea}, "systemctl status x;id", "", errNoExecCommand},
		{"a role that may run anything: the command as sent",
			wire.SessionGrant{ExecCommand: "ignored"}, "ps aux | grep x", "ps aux | grep x", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := execCommand(&tc.grant, tc.command)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("execCommand = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
