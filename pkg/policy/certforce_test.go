package policy

import "testing"

func TestCertForceCommand(t *testing.T) {
	for _, c := range []struct {
		role Role
		want string
	}{
		{Role{}, ""},
		{Role{ForceCommand: "/usr/bin/uptime"}, "/usr/bin/uptime"},
		{Role{AllowedCommands: []string{"uptime", "df -h"}}, DefaultCommandGate + ` -- 'uptime' 'df -h'`},
		{Role{ForceCommand: "/opt/lockbox-gate", AllowedCommands: []string{"it's"}}, `/opt/lockbox-gate -- 'it'\''s'`},
	} {
		if got := c.role.CertForceCommand(); got != c.want {
			t.Errorf("%+v: CertForceCommand() = %q, want %q", c.role, got, c.want)
		}
	}
}
