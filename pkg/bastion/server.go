package bastion

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gl "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Config is what a Server needs. New checks it once.
type Config struct {
	// Name is this bastion's name in the policy.
	Name string
	// HostKey signs the bastion's side of the handshake; make it a
	// certificate signer (ssh.NewCertSigner) with the host CA's
	// certificate so that clients trust it with one @cert-authority line.
	HostKey ssh.Signer
	// UserCA is the only authority trusted for grant certificates; HostCA
	// the authority for targets' host certificates. During a CA key
	// rotation, SetAuthorities adds each CA's other key.
	UserCA, HostCA ssh.PublicKey
	CA             ControlPlane
	Spool          *recording.Spool
	// BreakGlass accepts break-glass certificates (ca break-glass): no
	// CA, no TOTP code, the hop certificate they carry for Identity.
	// Off (the default), they are refused and the refusal audited.
	BreakGlass bool
	// Identity is the bastion's registered identity key (the one it signs
	// its CA requests with); break-glass sessions log in to the target
	// with it. Required with BreakGlass.
	Identity ssh.Signer

	IdleTimeout       time.Duration // no client input for this long ends a session; default 15m
	SessionCap        time.Duration // no session lasts longer; default 24h
	HeartbeatInterval time.Duration // how often sessions are checked with the CA; default 2s
	// HandshakeTimeout bounds key exchange and authentication, and then
	// again how long a logged-in connection may go without a session
	// open; default 30s.
	HandshakeTimeout time.Duration
	// MaxUnauthenticated and MaxUnauthenticatedPerSource cap the
	// connections that have not logged in yet, in total (default 512) and
	// per source address (IPv4 address or IPv6 /64; default 32). A
	// connection over a cap is closed at once and counted.
	MaxUnauthenticated, MaxUnauthenticatedPerSource int
	// RefusalReportInterval is how often counts of refused anonymous
	// connections go to the CA's audit log, one row per source and reason;
	// default 1m. People's refusals go at once.
	RefusalReportInterval time.Duration
	DialTimeout           time.Duration // connecting to a target; default 10s
	FlushEvery            time.Duration // recording flush interval; default 1s
	// LiveInterval is how often running sessions' output goes to the CA
	// for live view (when CA implements LiveReporter); default 200ms.
	LiveInterval time.Duration
	// MFARemember, if set, lets a user who passed the second factor log in
	// again with the same certificate from the same address without a new
	// code for this long. Zero (the default): every login asks.
	MFARemember time.Duration

	// Algorithms offered to clients and used toward targets; defaults in
	// algorithms.go.
	Ciphers, KeyExchanges, MACs []string

	Clock  func() time.Time
	Logger *slog.Logger
}

// Server is a running bastion. Serve it on a listener; Shutdown ends it.
type Server struct {
	cfg     Config
	ssh     *gl.Server
	log     *slog.Logger
	reg     *registry
	ends    unreported // session ends the CA has not taken yet
	leaving leaving    // users whose sessions are ending
	uploads idSet
	// break-glass sessions whose note is kept but which are not in reg
	// yet, and those held back until the next start: the CA refused their
	// report, or their note cannot be read
	glassOpening, glassHeld idSet
	conns                   *admission
	rep                     *reporter
	mfa                     mfaMemory
	// live view: nil reporter when the CA client does not report
	reporter   LiveReporter
	live       liveFeeds
	liveMu     sync.Mutex // one live report at a time; guards liveWarned, liveSent and liveByID
	liveWarned time.Time
	liveSent   []wire.LiveFeed             // the last report's sessions, emptied: reused
	liveByID   map[string]*liveFeed        // the last report's index, emptied: reused
	trust      atomic.Pointer[authorities] // the CA keys; SetAuthorities replaces them
	stop       context.CancelFunc
	ctx        context.Context
	wg         sync.WaitGroup

	draining    atomic.Bool            // Drain began: no new sessions
	drainNotice atomic.Pointer[string] // what users of open sessions were told
	handlers    sync.WaitGroup         // session channels being served, up to their recordings' upload
}

// New checks cfg, fills defaults, and builds the server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Name == "":
		return nil, errors.New("bastion: no name")
	case cfg.HostKey == nil:
		return nil, errors.New("bastion: no host key")
	case cfg.UserCA == nil || cfg.HostCA == nil:
		return nil, errors.New("bastion: the user and host CA keys are required")
	case cfg.CA == nil:
		return nil, errors.New("bastion: no control plane")
	case cfg.Spool == nil:
		return nil, errors.New("bastion: no recording spool")
	case cfg.BreakGlass && cfg.Identity == nil:
		return nil, errors.New("bastion: break-glass needs the identity key")
	}
	setDefault(&cfg.IdleTimeout, 15*time.Minute)
	setDefault(&cfg.SessionCap, 24*time.Hour)
	setDefault(&cfg.HeartbeatInterval, 2*time.Second)
	setDefault(&cfg.HandshakeTimeout, 30*time.Second)
	setDefault(&cfg.DialTimeout, 10*time.Second)
	setDefault(&cfg.FlushEvery, time.Second)
	setDefault(&cfg.LiveInterval, 200*time.Millisecond)
	setDefault(&cfg.RefusalReportInterval, time.Minute)
	if cfg.MaxUnauthenticated <= 0 {
		cfg.MaxUnauthenticated = 512
	}
	if cfg.MaxUnauthenticatedPerSource <= 0 {
		cfg.MaxUnauthenticatedPerSource = 32
	}
	if cfg.Ciphers == nil {
		cfg.Ciphers = DefaultCiphers
	}
	if cfg.KeyExchanges == nil {
		cfg.KeyExchanges = DefaultKeyExchanges
	}
	if cfg.MACs == nil {
		cfg.MACs = DefaultMACs
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, log: cfg.Logger, ctx: ctx, stop: stop, reg: newRegistry(),
		conns: newAdmission(cfg.MaxUnauthenticated, cfg.MaxUnauthenticatedPerSource),
		rep:   newReporter(cfg.CA, cfg.Logger, cfg.Clock, cfg.RefusalReportInterval)}
	s.reporter, _ = cfg.CA.(LiveReporter)
	if err := s.SetAuthorities([]ssh.PublicKey{cfg.UserCA}, []ssh.PublicKey{cfg.HostCA}); err != nil {
		stop()
		return nil, err
	}
	s.ssh = &gl.Server{
		HostSigners:          []gl.Signer{cfg.HostKey},
		ServerConfigCallback: s.serverConfig,
		ConnCallback:         s.acceptConn,
		// A handler that always refuses: keyboard-interactive on its own
		// (TOTP without a certificate) never succeeds, and its presence
		// keeps gliderlabs/ssh from turning on NoClientAuth (the public
		// key callbacks are set in serverConfig, which gliderlabs does
		// not count).
		KeyboardInteractiveHandler: func(gl.Context, ssh.KeyboardInteractiveChallenge) bool { return false },
		// Only session channels, handled by the bastion itself; every
		// other channel (direct-tcpip) and global request (tcpip-forward)
		// is refused, and forwarding is reported (forwarding.go).
		ChannelHandlers: map[string]gl.ChannelHandler{"session": s.handleSession, "default": s.refusedChannel},
		RequestHandlers: map[string]gl.RequestHandler{"default": s.refusedRequest},
		Version:         "Lockbox",
	}
	return s, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Serve accepts connections on ln until Shutdown or Close. It also runs
// the heartbeat loop that ends revoked sessions and the reports of
// refusals to the CA.
func (s *Server) Serve(ln net.Listener) error {
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		s.heartbeats(s.ctx)
	}()
	go func() {
		defer s.wg.Done()
		s.liveReports(s.ctx)
	}()
	go func() {
		defer s.wg.Done()
		s.rep.run(s.ctx)
	}()
	err := s.ssh.Serve(ln)
	if errors.Is(err, gl.ErrServerClosed) {
		return nil
	}
	return err
}

// HandleConn serves one connection (tests drive the server over any
// net.Conn).
func (s *Server) HandleConn(c net.Conn) { s.ssh.HandleConn(c) }

// Shutdown stops accepting, ends open sessions with reason, and waits for
// them to finish (or ctx to end).
func (s *Server) Shutdown(ctx context.Context, reason string) error {
	s.reg.endAll(endShutdown(reason))
	s.conns.closeUnauthenticated()
	err := s.ssh.Shutdown(ctx)
	s.stop()
	s.wg.Wait()
	return err
}

// Close stops at once.
func (s *Server) Close() error {
	s.reg.endAll(endShutdown("the bastion is shutting down"))
	err := s.ssh.Close()
	s.conns.closeUnauthenticated()
	s.stop()
	s.wg.Wait()
	return err
}
