package bastion

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// dialTarget connects to the session's target as the role's login, with a
// key made for this session alone and a hop certificate the CA signed for
// it (a break-glass session: the identity key and the hop certificate its
// certificate carries). The target's host key must be the one pinned in
// the policy or carry a host certificate from the host CA for the
// resource's name or address.
func (s *Server) dialTarget(ctx context.Context, grant *wire.SessionGrant, id identity) (*targetConn, error) {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	var certSigner ssh.Signer
	var err error
	if id.glass != nil {
		certSigner, err = s.breakGlassHop(id)
	} else {
		certSigner, err = s.hopSigner(cctx, id)
	}
	if err != nil {
		return nil, err
	}
	hostKeyCheck, algos, err := s.targetHostKey(grant.Target, id.Resource)
	if err != nil {
		return nil, err
	}
	// x/crypto keeps the whole config for as long as the connection lives
	// (it rekeys with it), and so anything it points to. The session key
	// and its certificate are needed only to log in: the callback hands
	// them over, and they are dropped once the connection is up.
	signers := []ssh.Signer{certSigner}
	cfg := &ssh.ClientConfig{
		Config:            ssh.Config{Ciphers: s.cfg.Ciphers, KeyExchanges: s.cfg.KeyExchanges, MACs: s.cfg.MACs},
		User:              grant.Target.Login,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return signers, nil })},
		HostKeyCallback:   hostKeyCheck,
		HostKeyAlgorithms: algos,
		Timeout:           s.cfg.DialTimeout,
	}
	var d net.Dialer
	conn, err := d.DialContext(cctx, "tcp", grant.Target.Address)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		conn = coalesceWrites(tc)
	}
	if dl, ok := cctx.Deadline(); ok {
		conn.SetDeadline(dl) //nolint:errcheck // the handshake fails on a dead conn anyway
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, grant.Target.Address, cfg)
	signers = nil
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{}) //nolint:errcheck
	return &targetConn{Conn: c, chans: chans, reqs: reqs}, nil
}

// hopSigner makes a key for this session alone and has the CA certify it.
func (s *Server) hopSigner(ctx context.Context, id identity) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	hop, err := s.cfg.CA.HopCertificate(ctx, id.RequestID, id.Resource, string(ssh.MarshalAuthorizedKey(key.PublicKey())))
	if err != nil {
		return nil, fmt.Errorf("hop certificate: %w", err)
	}
	parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hop.Certificate))
	if err != nil {
		return nil, fmt.Errorf("hop certificate: %w", err)
	}
	cert, ok := parsed.(*ssh.Certificate)
	if !ok || !bytes.Equal(cert.Key.Marshal(), key.PublicKey().Marshal()) {
		return nil, errors.New("hop certificate is not for the session key")
	}
	return ssh.NewCertSigner(cert, key)
}

// targetConn is a connection to a target with what the target asks of the
// bastion on it: channels it opens and global requests. The bastion grants
// none, but both must be answered, or the connection stalls. While a
// session is relayed its request loop answers them; until then,
// refuseUntil does.
type targetConn struct {
	ssh.Conn
	chans <-chan ssh.NewChannel
	reqs  <-chan *ssh.Request
}

// refuseUntil answers the target in a goroutine until the returned
// function is called (or the connection closes), so that the caller can
// take over.
func (t *targetConn) refuseUntil() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for t.chans != nil || t.reqs != nil {
			select {
			case nc, ok := <-t.chans:
				t.refuseChannel(nc, ok)
			case r, ok := <-t.reqs:
				t.refuseRequest(r, ok)
			case <-quit:
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// refuseChannel refuses a channel the target opens; a closed channel
// of new channels (the connection ended) is no longer watched.
func (t *targetConn) refuseChannel(nc ssh.NewChannel, ok bool) {
	if !ok {
		t.chans = nil
		return
	}
	nc.Reject(ssh.Prohibited, "the bastion accepts no channels") //nolint:errcheck
}

// refuseRequest refuses a global request from the target.
func (t *targetConn) refuseRequest(r *ssh.Request, ok bool) {
	if !ok {
		t.reqs = nil
		return
	}
	reply(r, false)
}

// certHostKeyAlgos are the host key algorithms to ask a target for when its
// host key is certified: certificates only, so no plain key can stand in.
var certHostKeyAlgos = []string{
	ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
	ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01,
}

func (s *Server) targetHostKey(t wire.Target, resource string) (ssh.HostKeyCallback, []string, error) {
	if t.HostKey != "" {
		pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey))
		if err != nil {
			return nil, nil, fmt.Errorf("pinned host key of %s: %w", resource, err)
		}
		return ssh.FixedHostKey(pinned), hostKeyAlgos(pinned), nil
	}
	checker := s.trust.Load().hostChecker(s.cfg.Clock)
	host, _, _ := net.SplitHostPort(t.Address)
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		if _, err := checker.CheckHost(key, resource); err == nil {
			return nil
		}
		_, err := checker.CheckHost(key, host)
		return err
	}, certHostKeyAlgos, nil
}

func hostKeyAlgos(k ssh.PublicKey) []string {
	if k.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{k.Type()}
}
