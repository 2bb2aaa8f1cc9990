package bastion

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Break-glass: a certificate from `ca break-glass`, signed offline while
// the CA is down, carries its target and a hop certificate for this
// bastion's identity key (pkg/breakglass). Only a bastion configured with
// BreakGlass accepts one; it then asks the CA nothing for the session (no
// check, no TOTP code, no hop certificate) and records it to the spool
// like any session.

// breakGlassPrefix starts the session ID the bastion makes for a
// break-glass session (the CA, being down, makes none). Heartbeats skip
// them: a CA back during the session does not know it and would end it.
const breakGlassPrefix = "bg-"

var (
	errBreakGlassOff = errors.New("break-glass certificates are not accepted here")
	errBreakGlassBad = errors.New("unusable break-glass certificate")
)

// isBreakGlass says whether a certificate the user CA signed is a
// break-glass one.
func isBreakGlass(cert *ssh.Certificate) bool {
	_, ok := cert.Extensions[breakglass.Extension]
	return ok
}

// breakGlassLogin admits a break-glass certificate, or refuses it saying
// why (audited like any refusal). There is no second factor: the CA that
// holds the TOTP secrets is down, and the certificate needed the CA host's
// user CA key.
func (s *Server) breakGlassLogin(g *connGuard, conn ssh.ConnMetadata, cert *ssh.Certificate) (*ssh.Permissions, error) {
	if !s.cfg.BreakGlass {
		return nil, s.refusePerson(g, conn, cert, errBreakGlassOff,
			"break-glass certificates are refused by this bastion (its config does not say break_glass: true)")
	}
	id, err := s.checkBreakGlass(cert, conn)
	if err != nil {
		return nil, s.refusePerson(g, conn, cert, err, "this break-glass certificate cannot be used here: "+err.Error())
	}
	g.markPerson()
	s.log.Warn("BREAK-GLASS login", "user", id.User, "resource", id.Resource, "role", id.Role, "serial", cert.Serial,
		"reason", id.glass.Reason, "client", conn.RemoteAddr().String())
	p := id.permissions()
	p.Extensions[extBreakGlass] = cert.Extensions[breakglass.Extension]
	p.Extensions[extBreakGlassCert] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
	return p, nil
}

// checkBreakGlass checks a break-glass certificate as checkCert checks a
// grant's: signature, validity, principal for the login, and the grant it
// carries: for this bastion, with a hop certificate for its identity key.
func (s *Server) checkBreakGlass(cert *ssh.Certificate, conn ssh.ConnMetadata) (identity, error) {
	checker := s.trust.Load().userChecker(s.cfg.Clock)
	principal, err := principalFor(cert, conn.User())
	if err != nil {
		return identity{}, err
	}
	if _, err := checker.CheckUser(cert, principal); err != nil {
		return identity{}, err
	}
	if err := sshcert.CheckSourceAddress(cert, conn.RemoteAddr()); err != nil {
		return identity{}, err
	}
	bg, err := breakglass.Of(cert)
	if err != nil {
		return identity{}, fmt.Errorf("%w: %w", errBreakGlassBad, err)
	}
	if bg.Bastion != s.cfg.Name {
		return identity{}, fmt.Errorf("%w: it is for bastion %s", errBreakGlassBad, bg.Bastion)
	}
	if s.cfg.Identity == nil {
		return identity{}, fmt.Errorf("%w: this bastion has no identity key", errBreakGlassBad)
	}
	if _, err := bg.Hop(s.cfg.Identity.PublicKey()); err != nil {
		return identity{}, fmt.Errorf("%w: %w", errBreakGlassBad, err)
	}
	_, pty := cert.Extensions[sshcert.ExtPermitPTY]
	return identity{User: bg.User, RequestID: breakglass.KeyIDPrefix + bg.Resource, Role: bg.Role, Resource: bg.Resource,
		Serial: cert.Serial, PTY: pty, glass: &bg}, nil
}

// breakGlassGrant is the session grant the bastion makes itself for a
// break-glass session: the target from the certificate, the end of the
// certificate as the grant's end.
func breakGlassGrant(id identity, command string) (*wire.SessionGrant, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	bg := id.glass
	return &wire.SessionGrant{SessionID: breakGlassPrefix + hex.EncodeToString(b[:]), NotAfter: bg.NotAfter,
		Target: wire.Target{Address: bg.Address, Login: bg.Login, HostKey: bg.HostKey}, Interactive: id.PTY,
		ExecCommand: command}, nil
}

// breakGlassHop is the signer toward the target for a break-glass
// session: the identity key with the certificate's hop certificate.
func (s *Server) breakGlassHop(id identity) (ssh.Signer, error) {
	hop, err := id.glass.Hop(s.cfg.Identity.PublicKey())
	if err != nil {
		return nil, err
	}
	return ssh.NewCertSigner(hop, s.cfg.Identity)
}

// breakGlassBanner is shown to the user when the session opens.
func breakGlassBanner(id identity) string {
	line := strings.Repeat("!", 72)
	return fmt.Sprintf("\r\n%s\r\n!! BREAK-GLASS SESSION: %s as %s on %s\r\n!! reason: %s\r\n"+
		"!! No approval and no second factor were asked. This session is recorded\r\n"+
		"!! and is reported to the audit log and to the operators.\r\n%s\r\n",
		line, id.User, id.Role, id.Resource, id.glass.Reason, line)
}
