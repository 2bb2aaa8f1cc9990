package bastion

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// What a refused login is told, and who hears what. Only a client that
// proved it holds a certificate our user CA signed learns why that
// certificate cannot be used ("this certificate ended at …"); anyone else
// hears "not a Lockbox certificate" and nothing more. Both are logged with
// the key's fingerprint; a person's refusal also names the key ID and
// serial and goes to the CA's audit log one by one, while anonymous ones
// are counted (refusals.go).

// errNoGrant: a certificate the user CA signed whose key ID names no
// grant (the CA never signs one).
var errNoGrant = errors.New("the certificate names no grant")

// notLockbox is what anyone whose key is not a Lockbox certificate is
// told, once per connection (a client offering several keys would see it
// for each).
const notLockbox = "lockbox: not a Lockbox certificate\n"

func (g *connGuard) notLockbox(err error) error {
	if g == nil {
		return &ssh.BannerError{Err: err, Message: notLockbox}
	}
	g.mu.Lock()
	// A person already told why their certificate cannot be used need not
	// hear about the plain key ssh offers after it.
	first := !g.toldNotLockbox && !g.person
	g.toldNotLockbox = true
	g.mu.Unlock()
	if !first {
		return err
	}
	return &ssh.BannerError{Err: err, Message: notLockbox}
}

// describeKey is what the log may say of an offered key that is not a
// Lockbox certificate: its fingerprint, and for a certificate what it
// claims (unverified).
func describeKey(login string, key ssh.PublicKey) refusalDetail {
	d := refusalDetail{Login: login, HasKey: true, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key)}
	if c, ok := key.(*ssh.Certificate); ok {
		d.Fingerprint = ssh.FingerprintSHA256(c.Key)
		d.KeyID, d.Serial = c.KeyId, c.Serial
		d.User, _, _ = strings.Cut(c.KeyId, "/")
	}
	return d
}

// explainCert tells the holder of a genuine certificate why it cannot be
// used here. It is pure.
func explainCert(err error, cert *ssh.Certificate, login string, client net.Addr, now time.Time) string {
	switch {
	case errors.Is(err, sshcert.ErrExpired):
		return "this certificate ended at " + time.Unix(int64(cert.ValidBefore), 0).UTC().Format(time.RFC3339) +
			"; request access again, or fetch a new certificate for a grant that is still live (lockbox cert)"
	case errors.Is(err, sshcert.ErrNotYetValid):
		return "this certificate is valid only from " + time.Unix(int64(min(cert.ValidAfter, 1<<62)), 0).UTC().Format(time.RFC3339) +
			" (this bastion's clock says " + now.UTC().Format(time.RFC3339) + ")"
	case errors.Is(err, sshcert.ErrPrincipalMismatch):
		return fmt.Sprintf("this certificate is for %s, not %s", certTargets(cert), login)
	case errors.Is(err, sshcert.ErrSourceAddress):
		return "this certificate may not be used from " + hostOf(client)
	default:
		return "this certificate cannot be used on this bastion"
	}
}

// certTargets names what a certificate opens: its resources, or
// ROLE@RESOURCE principals when a login names a role.
func certTargets(cert *ssh.Certificate) string {
	const most = 5
	var names []string
	seen := map[string]bool{}
	for _, p := range cert.ValidPrincipals {
		_, resource, ok := strings.Cut(p, "@")
		if !ok {
			resource = p
		}
		name := resource + " (" + p + ")"
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if len(names) > most {
		names = append(names[:most], fmt.Sprintf("and %d more", len(names)-most))
	}
	return strings.Join(names, ", ")
}

// refusePerson logs and reports the refusal of a person's genuine
// certificate and returns the error that tells them why.
func (s *Server) refusePerson(g *connGuard, conn ssh.ConnMetadata, cert *ssh.Certificate, cause error, told string) error {
	user, request, _ := grantOf(cert)
	if user == "" {
		user = cert.KeyId
	}
	if isBreakGlass(cert) { // key ID break-glass/USER/RESOURCE: no request
		user, request = cert.KeyId, ""
		if g, err := breakglass.Of(cert); err == nil {
			user = g.User
		}
	}
	fp := ssh.FingerprintSHA256(cert.Key)
	g.refused("", true, refusalDetail{})
	s.log.Info("login refused", "user", user, "request", request, "login", conn.User(), "client", conn.RemoteAddr().String(),
		"cause", cause.Error(), "key_id", cert.KeyId, "serial", cert.Serial, "fingerprint", fp, "told", told)
	s.rep.person(wire.BastionRefusal{Kind: wire.RefusedLogin, Time: s.cfg.Clock(), User: user, RequestID: request, Login: conn.User(),
		KeyID: cert.KeyId, Serial: cert.Serial, Fingerprint: fp, ClientAddr: hostOf(conn.RemoteAddr()), Reason: told})
	return &ssh.BannerError{Err: cause, Message: "lockbox: " + told + "\n"}
}
