package api

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/penalty"
)

// Penalties is what the API needs from a per-source penalty table
// (pkg/penalty's Table): to count an anonymous refusal against its
// source, to know at accept whether a source is penalised, and whether
// any penalty may be in force at all.
type Penalties interface {
	Refused(addr netip.Addr) penalty.Verdict
	Penalised(addr netip.Addr) bool
	InForce() bool
}

// Reasons under which penalties are counted in the anonymous.refused
// audit rows (workflow CountAnonymousRefusal), beside the refusals' own.
const (
	// penaltyStartedCode: the source went over its budget and was
	// penalised; one per penalty.
	penaltyStartedCode = "penalty_started"
	// penalisedConnectionCode: a new connection of a penalised source,
	// closed at accept.
	penalisedConnectionCode = "penalised_connection"
)

// Guard returns ln with the penalised sources' connections refused at
// accept: closed before a byte of them is read, with no answer (the
// kernel resets a connection closed with its request unread). Serve the
// API on the listener it returns. Without Config.Penalties it is ln.
//
// While a penalty is in force, a TCP listener on Linux accepts with its
// own accept4 on the listening socket (rawAccepter): a penalised
// source's connection is then closed as the bare file descriptor it is,
// which is all a penalised flood costs the CA, without the Go runtime's
// set-up and tear-down of a net.Conn for it (registering it with the
// poller and removing it, reading its local address, setting
// TCP_NODELAY). A connection of a source not penalised is made a
// net.Conn from its descriptor then, which costs it a few system calls
// more than an ordinary accept; with no penalty in force, every
// connection is accepted the ordinary way.
func (s *Server) Guard(ln net.Listener) net.Listener {
	if s.cfg.Penalties == nil {
		return ln
	}
	return &guardedListener{Listener: ln, s: s, raw: newRawAccepter(ln)}
}

type guardedListener struct {
	net.Listener
	s   *Server
	raw rawAccepter // nil: every connection is accepted the ordinary way
}

// rawAccepter accepts connections on a listening socket by hand (see
// Guard): refuse is asked about each one's peer, and a connection it
// refuses is closed before anything else is done for it.
type rawAccepter interface {
	accept(refuse func(netip.Addr) bool) (net.Conn, error)
	Close() error
}

// Close closes the listener and the raw accepter's copy of its socket.
func (l *guardedListener) Close() error {
	if l.raw != nil {
		l.raw.Close() //nolint:errcheck // the listener's own Close says what matters
	}
	return l.Listener.Close()
}

// Accept returns the next connection of a source that is not penalised.
func (l *guardedListener) Accept() (net.Conn, error) {
	p := l.s.cfg.Penalties
	for {
		if l.raw != nil && p.InForce() {
			return l.raw.accept(l.refuse)
		}
		c, err := l.Listener.Accept()
		if err != nil {
			return c, err
		}
		addr := connAddr(c)
		if !p.Penalised(addr) {
			return c, nil
		}
		c.Close()
		l.refused(addr)
	}
}

// refuse reports whether a new connection from addr is to be refused,
// and counts it if so: the caller closes it.
func (l *guardedListener) refuse(addr netip.Addr) bool {
	if !l.s.cfg.Penalties.Penalised(addr) {
		return false
	}
	l.refused(addr)
	return true
}

// refused counts a connection of a penalised source closed at accept.
func (l *guardedListener) refused(addr netip.Addr) {
	metrics.PenaltyRefusedConnections.Inc()
	l.s.wf.CountAnonymousRefusal(addr.String(), penalisedConnectionCode)
}

// connAddr is the IP address of c's peer (invalid if it has none).
func connAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap.Addr().Unmap()
}

// penalise counts an anonymous refusal of r against its source. While the
// source is penalised, the answer closes the connection, so that a caller
// keeping its connection alive has to open a new one, which is refused at
// accept.
func (s *Server) penalise(w http.ResponseWriter, r *http.Request, source string) {
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	if s.Penalise(ap.Addr(), source) {
		w.Header().Set("Connection", "close")
	}
}

// Penalise counts a refusal of a caller nobody authenticated, from addr
// (logged as source), against its source's budget in Config.Penalties,
// and reports whether the source is penalised now: the answer should then
// close its connection. The web form and the SCIM endpoint, served on the
// listener Guard returns, count their anonymous refusals here, so that a
// source's refusals anywhere on it share one budget. A penalty starting is
// logged, counted in the metrics and in the source's next
// anonymous.refused audit row. Without Config.Penalties it counts nothing
// and reports false.
func (s *Server) Penalise(addr netip.Addr, source string) (penalised bool) {
	if s.cfg.Penalties == nil {
		return false
	}
	v := s.cfg.Penalties.Refused(addr)
	if v.Full {
		metrics.PenaltyTableFull.Inc()
	}
	if !v.Started {
		return v.Penalised
	}
	s.wf.CountAnonymousRefusal(source, penaltyStartedCode)
	if v.Full {
		metrics.PenaltiesStarted.WithLabelValues("deny-all").Inc()
		s.log.Error("the penalty table is full and its overflow is deny-all: new connections of every source not exempt are refused for the penalty's duration",
			"source", source)
		return v.Penalised
	}
	metrics.PenaltiesStarted.WithLabelValues("source").Inc()
	s.log.Warn("source penalised: too many calls nobody authenticated; its new connections are refused for the penalty's duration",
		"source", source, "prefix", v.Source.String())
	return v.Penalised
}
