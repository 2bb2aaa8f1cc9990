package bastion

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// errSpool: the spool cannot be written, so no session could be recorded.
var errSpool = errors.New("the recording spool is not writable")

// readyForSession checks, before the TOTP code is asked for, everything a
// session needs that does not depend on the command: that the spool can
// be written, and, at the CA, that the grant is live and not revoked and
// the user's lease is free. A login refused here spends no code. What
// depends on the command is checked when the session starts.
func (s *Server) readyForSession(g *connGuard, conn ssh.ConnMetadata, cert *ssh.Certificate, id identity) error {
	if err := s.cfg.Spool.CheckWritable(); err != nil {
		s.log.Error("the spool cannot be written; refusing logins", "err", err)
		return s.refusePerson(g, conn, cert, errors.Join(errSpool, err), "the bastion cannot record sessions right now, so it opens none; try again later")
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	// A session of this user whose client just went may still hold the
	// lease for a moment: let its end reach the CA first.
	wait, stop := context.WithTimeout(ctx, endReportTimeout+2*time.Second)
	s.leaving.wait(wait, id.User)
	stop()
	var err error
	onFreshStack(func() {
		err = s.cfg.CA.CheckSession(ctx, wire.SessionCheck{RequestID: id.RequestID, Resource: id.Resource, User: id.User, ClientAddr: conn.RemoteAddr().String()})
	})
	if err == nil {
		return nil
	}
	told := userMessage(err)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status < 500 {
		// The CA refused, and audited its refusal.
		metrics.BastionRefusals.WithLabelValues("ca:" + ce.Code).Inc()
		g.refused("", true, refusalDetail{})
		s.log.Info("login refused by the CA", "user", id.User, "request", id.RequestID, "login", conn.User(), "client", conn.RemoteAddr().String(),
			"cause", err.Error(), "key_id", cert.KeyId, "serial", cert.Serial, "fingerprint", ssh.FingerprintSHA256(cert.Key))
		return &ssh.BannerError{Err: err, Message: "lockbox: " + told + "\n"}
	}
	return s.refusePerson(g, conn, cert, err, told)
}
