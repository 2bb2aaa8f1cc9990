package bastion

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	gl "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// identity is who a connection authenticated as, bound into the
// connection's final Permissions by the TOTP step.
type identity struct {
	User      string
	RequestID string
	Role      string
	Resource  string
	Serial    uint64
	PTY       bool // the certificate permits a terminal (interactive roles)
	// glass is the grant of a break-glass certificate; nil for a grant's.
	glass *breakglass.Grant
	// glassCert is that certificate, an authorized_keys line, for the
	// report to the CA.
	glassCert string
}

const (
	extUser     = "lockbox-user"
	extRequest  = "lockbox-request"
	extRole     = "lockbox-role"
	extResource = "lockbox-resource"
	extSerial   = "lockbox-serial"
	extPTY      = "lockbox-pty"
	// extBreakGlass holds a break-glass certificate's extension,
	// extBreakGlassCert the certificate.
	extBreakGlass     = "lockbox-break-glass"
	extBreakGlassCert = "lockbox-break-glass-cert"
	guardKey          = ctxKey("guard")
)

// codeQuestion is the TOTP prompt. OpenSSH shows it after "(LOGIN@HOST) ",
// and the login is the resource (db-1), which reads like a Unix account:
// so the prompt names the person and where the code comes from.
func codeQuestion(id identity) string {
	return fmt.Sprintf("Lockbox code for %s from your authenticator app: ", id.User)
}

// codeInstruction is shown above the prompt.
func codeInstruction(id identity) string {
	return fmt.Sprintf("Lockbox: second factor for %s, %s on %s (grant %s)", id.User, id.Role, id.Resource, id.RequestID)
}

type ctxKey string

func (id identity) permissions() *ssh.Permissions {
	return &ssh.Permissions{Extensions: map[string]string{
		extUser: id.User, extRequest: id.RequestID, extRole: id.Role, extResource: id.Resource,
		extSerial: strconv.FormatUint(id.Serial, 10), extPTY: strconv.FormatBool(id.PTY),
	}}
}

// identityOf reads the identity from a connection's final permissions.
func identityOf(p *ssh.Permissions) (identity, bool) {
	if p == nil || p.Extensions[extUser] == "" || p.Extensions[extRequest] == "" {
		return identity{}, false
	}
	e := p.Extensions
	serial, _ := strconv.ParseUint(e[extSerial], 10, 64)
	id := identity{User: e[extUser], RequestID: e[extRequest], Role: e[extRole], Resource: e[extResource], Serial: serial,
		PTY: e[extPTY] == "true"}
	if v, ok := e[extBreakGlass]; ok {
		g, err := breakglass.Parse([]byte(v))
		if err != nil {
			return identity{}, false
		}
		id.glass, id.glassCert = &g, e[extBreakGlassCert]
	}
	return id, true
}

func (s *Server) serverConfig(ctx gl.Context) *ssh.ServerConfig {
	g, _ := ctx.Value(guardKey).(*connGuard)
	c := &ssh.ServerConfig{
		Config: ssh.Config{Ciphers: s.cfg.Ciphers, KeyExchanges: s.cfg.KeyExchanges, MACs: s.cfg.MACs},
		// Our own callback, not gliderlabs' PublicKeyHandler: it can say
		// "not a Lockbox certificate" in a banner (gliderlabs' returns a
		// bare error), and it remembers nothing about the key.
		PublicKeyCallback: func(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			return nil, s.offeredKey(g, conn, key)
		},
		VerifiedPublicKeyCallback: func(conn ssh.ConnMetadata, key ssh.PublicKey, _ *ssh.Permissions, _ string) (*ssh.Permissions, error) {
			return s.verifiedKey(g, conn, key)
		},
		MaxAuthTries: 6,
		AuthLogCallback: func(conn ssh.ConnMetadata, method string, err error) {
			switch {
			case err == nil:
				g.loggedIn()
			case method != "publickey":
				var partial *ssh.PartialSuccessError
				if !errors.As(err, &partial) {
					g.refused(causeNoCertificate, false, refusalDetail{Login: conn.User()})
				}
			}
		},
	}
	return c
}

// acceptConn admits a connection under the caps on connections not yet
// logged in, or refuses it (nil: gliderlabs closes it). Its guard closes
// it if it does not log in, or then open a session, in time.
func (s *Server) acceptConn(ctx gl.Context, c net.Conn) net.Conn {
	g := s.guard(c)
	if g == nil {
		return nil
	}
	ctx.SetValue(guardKey, g)
	inner := withQuickAck(c)
	g.quick, _ = inner.(*quickAckConn)
	return &guardedConn{Conn: inner, g: g}
}

// checkCert verifies that key is a grant certificate from the user CA
// for the resource the user logged in as (ssh RESOURCE@bastion; also
// ROLE@RESOURCE), from an allowed source address. It is pure. When the
// certificate is one the user CA really signed, it is returned even if it
// cannot be used, so that its holder can be told why.
func (s *Server) checkCert(key ssh.PublicKey, login string, remote net.Addr) (identity, *ssh.Certificate, error) {
	checker := s.trust.Load().userChecker(s.cfg.Clock)
	cert, err := checker.SignedUser(key)
	if err != nil {
		return identity{}, nil, err
	}
	principal, err := principalFor(cert, login)
	if err != nil {
		return identity{}, cert, err
	}
	if _, err := checker.CheckUser(cert, principal); err != nil {
		return identity{}, cert, err
	}
	if err := sshcert.CheckSourceAddress(cert, remote); err != nil {
		return identity{}, cert, err
	}
	user, request, ok := grantOf(cert)
	if !ok {
		return identity{}, cert, fmt.Errorf("%w: certificate key ID %q does not name a grant", errNoGrant, cert.KeyId)
	}
	role, resource, _ := strings.Cut(principal, "@")
	_, pty := cert.Extensions["permit-pty"]
	return identity{User: user, RequestID: request, Role: role, Resource: resource, Serial: cert.Serial, PTY: pty}, cert, nil
}

// grantOf reads the user and request from a grant certificate's key ID,
// "USER/req-…".
func grantOf(cert *ssh.Certificate) (user, request string, ok bool) {
	user, request, ok = strings.Cut(cert.KeyId, "/")
	return user, request, ok && user != "" && strings.HasPrefix(request, "req-")
}

// principalFor picks the certificate's principal for login: login itself
// when it is ROLE@RESOURCE, else the one principal ending in @login.
func principalFor(cert *ssh.Certificate, login string) (string, error) {
	if strings.Contains(login, "@") {
		return login, nil
	}
	var found string
	for _, p := range cert.ValidPrincipals {
		if strings.HasSuffix(p, "@"+login) {
			if found != "" {
				return "", fmt.Errorf("%w: the certificate names %s more than once", sshcert.ErrPrincipalMismatch, login)
			}
			found = p
		}
	}
	if found == "" {
		return "", fmt.Errorf("%w: the certificate is not for %q", sshcert.ErrPrincipalMismatch, login)
	}
	return found, nil
}

// offeredKey answers "would this key do?" for a key the client may not
// hold. It decides nothing about identity: any certificate the user CA
// really signed may go on to prove its key, so that verifiedKey can tell
// its holder why it cannot be used, if it cannot. Anything else is not a
// Lockbox certificate, and the client is told only that.
func (s *Server) offeredKey(g *connGuard, conn ssh.ConnMetadata, key ssh.PublicKey) error {
	checker := s.trust.Load().userChecker(s.cfg.Clock)
	if _, err := checker.SignedUser(key); err != nil {
		g.refused(causeNotLockbox, false, describeKey(conn.User(), key))
		return g.notLockbox(err)
	}
	return nil
}

// verifiedKey runs once the client proved it holds key. It checks the
// certificate again, refuses a person's certificate that cannot be used
// saying why, and asks for the second factor, bound to this identity and
// login.
func (s *Server) verifiedKey(g *connGuard, conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	checker := s.trust.Load().userChecker(s.cfg.Clock)
	if cert, err := checker.SignedUser(key); err == nil && isBreakGlass(cert) {
		return s.breakGlassLogin(g, conn, cert)
	}
	id, cert, err := s.checkCert(key, conn.User(), conn.RemoteAddr())
	if cert == nil && err != nil {
		g.refused(causeNotLockbox, false, describeKey(conn.User(), key))
		return nil, g.notLockbox(err)
	}
	if err != nil {
		return nil, s.refusePerson(g, conn, cert, err, explainCert(err, cert, conn.User(), conn.RemoteAddr(), s.cfg.Clock()))
	}
	if err := s.readyForSession(g, conn, cert, id); err != nil {
		return nil, err
	}
	g.markPerson() // from here on, the CA audits what is refused (codes, sessions)
	login := conn.User()
	if s.cfg.MFARemember > 0 && s.mfa.recall(mfaKey{id.User, id.Serial, hostOf(conn.RemoteAddr())}, s.cfg.Clock()) {
		return id.permissions(), nil
	}
	return nil, &ssh.PartialSuccessError{Next: ssh.ServerAuthCallbacks{
		KeyboardInteractiveCallback: func(conn ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			return s.secondFactor(conn, client, id, login)
		},
	}}
}

// secondFactor asks for a TOTP code and has the CA check it (single use,
// throttled across replicas).
func (s *Server) secondFactor(conn ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge, id identity, login string) (*ssh.Permissions, error) {
	if conn.User() != login {
		return nil, errors.New("the user name changed between authentication steps")
	}
	answers, err := client("", codeInstruction(id), []string{codeQuestion(id)}, []bool{false})
	if err != nil {
		return nil, err
	}
	if len(answers) != 1 {
		return nil, errors.New("expected one answer")
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.cfg.CA.CheckMFA(ctx, id.User, strings.TrimSpace(answers[0]), hostOf(conn.RemoteAddr())); err != nil {
		s.log.Info("second factor refused", "user", id.User, "request", id.RequestID, "client", conn.RemoteAddr().String(), "err", err)
		return nil, &ssh.BannerError{Err: err, Message: "lockbox: " + userMessage(err) + "\n"}
	}
	if s.cfg.MFARemember > 0 {
		s.mfa.remember(mfaKey{id.User, id.Serial, hostOf(conn.RemoteAddr())}, s.cfg.Clock().Add(s.cfg.MFARemember))
	}
	return id.permissions(), nil
}

func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
