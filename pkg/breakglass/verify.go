package breakglass

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// ErrUntrusted is a certificate the CA cannot take as a break-glass
// certificate it signed: not a certificate, not signed by a trusted user
// CA key, or not valid at the time it was used.
var ErrUntrusted = errors.New("break-glass: not a certificate of the user CA valid then")

// Verify reads the certificate a bastion reports a break-glass session
// with (an authorized_keys line) and checks it as the bastion checked it
// at login: a user certificate signed by one of userCA (the user CA's
// keys, more than one during a rotation), valid at the session's start
// for its one principal, carrying a break-glass grant for the bastion
// named bastion whose hop certificate certifies one of bastionKeys (that
// bastion's registered identity keys). Only what it returns may be
// trusted; it does no I/O.
func Verify(line string, userCA []ssh.PublicKey, bastion string, bastionKeys []ssh.PublicKey, start time.Time) (*ssh.Certificate, Grant, error) {
	if len(userCA) == 0 {
		return nil, Grant{}, fmt.Errorf("%w: no user CA key to check it with", ErrUntrusted)
	}
	parsed, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || strings.TrimSpace(string(rest)) != "" {
		return nil, Grant{}, fmt.Errorf("%w: the certificate does not read as one authorized_keys line", ErrUntrusted)
	}
	cert, ok := parsed.(*ssh.Certificate)
	if !ok || len(cert.ValidPrincipals) != 1 {
		return nil, Grant{}, fmt.Errorf("%w: a plain key, or not one principal", ErrUntrusted)
	}
	checker := sshcert.Checker{CA: userCA[0], Also: userCA[1:], Clock: func() time.Time { return start }}
	if _, err := checker.CheckUser(cert, cert.ValidPrincipals[0]); err != nil {
		return nil, Grant{}, fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	g, err := Of(cert)
	if err != nil {
		return nil, Grant{}, err
	}
	if g.Bastion != bastion {
		return nil, Grant{}, fmt.Errorf("%w: it is for bastion %s", ErrWrongHost, g.Bastion)
	}
	for _, k := range bastionKeys {
		if _, err := g.Hop(k); err == nil {
			return cert, g, nil
		}
	}
	return nil, Grant{}, fmt.Errorf("%w: its hop certificate is for none of %s's keys", ErrWrongHost, bastion)
}
