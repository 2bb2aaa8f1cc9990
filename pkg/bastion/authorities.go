package bastion

import (
	"errors"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// authorities are the CA keys the bastion trusts: each CA's signing key,
// then, during the CA's key rotation, its other key.
type authorities struct {
	user, host []ssh.PublicKey
}

func (a *authorities) userChecker(clock func() time.Time) sshcert.Checker {
	return sshcert.Checker{CA: a.user[0], Also: a.user[1:], Clock: clock}
}

func (a *authorities) hostChecker(clock func() time.Time) sshcert.Checker {
	return sshcert.Checker{CA: a.host[0], Also: a.host[1:], Clock: clock}
}

// SetAuthorities replaces the CA keys the bastion trusts: user are the
// keys grant certificates may be signed by, host those of targets' host
// certificates, each CA's signing key first. During a CA key rotation a
// list has two keys. Connections authenticated from now on use the new
// lists; sessions already open go on. It refuses an empty list, a nil key
// and a certificate, keeping the keys in use.
func (s *Server) SetAuthorities(user, host []ssh.PublicKey) error {
	if len(user) == 0 || len(host) == 0 {
		return errors.New("bastion: the user and host CA keys are required")
	}
	for _, k := range append(append([]ssh.PublicKey{}, user...), host...) {
		if k == nil {
			return errors.New("bastion: a nil CA key")
		}
		if _, ok := k.(*ssh.Certificate); ok {
			return errors.New("bastion: a CA key is a certificate")
		}
	}
	for _, u := range user {
		for _, h := range host {
			if string(u.Marshal()) == string(h.Marshal()) {
				return errors.New("bastion: a user CA key is also a host CA key")
			}
		}
	}
	s.trust.Store(&authorities{user: append([]ssh.PublicKey{}, user...), host: append([]ssh.PublicKey{}, host...)})
	return nil
}
