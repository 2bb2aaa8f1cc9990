package bastion

import (
	"net"
	"sync"
	"time"
)

// Connection limits. gliderlabs/ssh resets a connection's deadline on every
// read and write when the server has no idle or max timeout, so a deadline
// set at accept would do nothing: each connection has a timer of its own
// instead (connGuard), and the connections that have not logged in yet are
// capped per source and in total, as sshd's MaxStartups and
// PerSourceMaxStartups do. A connection over a cap is closed at once, before
// the SSH banner, and counted (not audited one by one): see refusals.go.

// Why a connection that never logged in was refused, as counted and
// audited per source.
const (
	causeOverCap        = "too many connections not yet logged in"
	causeTimeout        = "no login within the handshake timeout"
	causeNotLockbox     = "not a Lockbox certificate"
	causeNoCertificate  = "no certificate offered"
	causeLeftBeforeAuth = "left before logging in"
)

// admission counts the connections that have not logged in, per source and
// in total, and keeps every open connection so that Close can end them.
type admission struct {
	maxTotal, maxPerSource int

	mu        sync.Mutex
	total     int            // connections not logged in
	perSource map[string]int // of those, per source (at most maxTotal keys)
	open      map[*connGuard]struct{}
}

func newAdmission(maxTotal, maxPerSource int) *admission {
	return &admission{maxTotal: maxTotal, maxPerSource: maxPerSource, perSource: map[string]int{}, open: map[*connGuard]struct{}{}}
}

// admit takes a slot for a new connection from source, or reports false
// when a cap is reached.
func (a *admission) admit(g *connGuard) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.total >= a.maxTotal || a.perSource[g.source] >= a.maxPerSource {
		return false
	}
	a.total++
	a.perSource[g.source]++
	a.open[g] = struct{}{}
	return true
}

// loggedIn gives back the slot of a connection that logged in.
func (a *admission) loggedIn(g *connGuard) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.releaseLocked(g.source)
}

// closed forgets a connection; authed says whether it had given its slot
// back already.
func (a *admission) closed(g *connGuard, authed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.open, g)
	if !authed {
		a.releaseLocked(g.source)
	}
}

func (a *admission) releaseLocked(source string) {
	a.total--
	if a.perSource[source]--; a.perSource[source] <= 0 {
		delete(a.perSource, source)
	}
}

// closeUnauthenticated closes every connection that has not logged in
// (gliderlabs' Close and Shutdown know only connections that did).
func (a *admission) closeUnauthenticated() {
	a.mu.Lock()
	var list []*connGuard
	for g := range a.open {
		list = append(list, g)
	}
	a.mu.Unlock()
	for _, g := range list {
		g.closeIfUnauthenticated()
	}
}

// sourceOf is the key connections are capped by: the IPv4 address, or the
// IPv6 /64 (one host usually holds a whole /64).
func sourceOf(addr net.Addr) string {
	ip := net.ParseIP(hostOf(addr))
	if ip == nil {
		return hostOf(addr)
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// connGuard watches one connection: it closes it when it has not logged
// in within the handshake timeout, and when it has logged in but has no
// session open for that long (right after the login, or after its
// sessions ended).
type connGuard struct {
	srv    *Server
	raw    net.Conn
	quick  *quickAckConn // nil unless TCP
	source string        // the caps' key
	client string        // the client's address, for logs and audit

	mu       sync.Mutex
	timer    *time.Timer
	authed   bool
	sessions int
	done     bool
	timedOut bool
	cause    string // why a login was refused, if one was
	person   bool   // a person was refused, and that refusal is audited on its own
	// toldNotLockbox: the client was told once that a key is not a
	// Lockbox certificate.
	toldNotLockbox bool
	session        string // the Lockbox session open on this connection, if any
	reported       int    // refusals reported one by one
	refusal        refusalDetail
}

// guardedConn is the connection gliderlabs serves; closing it tells the
// guard.
type guardedConn struct {
	net.Conn
	g *connGuard
}

func (c *guardedConn) Close() error {
	c.g.closed()
	return c.Conn.Close()
}

// guard admits c or refuses it (nil) when a cap is reached.
func (s *Server) guard(c net.Conn) *connGuard {
	g := &connGuard{srv: s, raw: c, source: sourceOf(c.RemoteAddr()), client: hostOf(c.RemoteAddr())}
	if !s.conns.admit(g) {
		s.rep.anonymous(g.client, causeOverCap, refusalDetail{})
		return nil
	}
	g.mu.Lock()
	g.timer = time.AfterFunc(s.cfg.HandshakeTimeout, g.expire)
	g.mu.Unlock()
	return g
}

// expire closes a connection that has not logged in, or has no session,
// in time.
func (g *connGuard) expire() {
	g.mu.Lock()
	if g.done || g.sessions > 0 {
		g.mu.Unlock()
		return
	}
	g.timedOut = true
	authed := g.authed
	g.mu.Unlock()
	if authed {
		g.srv.log.Info("closing a connection that has no session open", "client", g.client, "after", g.srv.cfg.HandshakeTimeout)
	}
	g.raw.Close()
}

// loggedIn is called once authentication succeeded: the connection no
// longer counts against the caps, and must open a session in time.
func (g *connGuard) loggedIn() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.authed || g.done {
		return
	}
	g.authed = true
	g.srv.conns.loggedIn(g)
	g.timer.Reset(g.srv.cfg.HandshakeTimeout)
}

// sessionOpened and sessionClosed track the connection's session channels.
// A nil guard (a test driving the callbacks directly) does nothing, as in
// loggedIn and refused.
func (g *connGuard) sessionOpened() {
	if g == nil {
		return
	}
	if g.quick != nil {
		g.quick.done.Store(true) // a session starts: back to the kernel's defaults
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sessions++
	g.timer.Stop()
}

func (g *connGuard) sessionClosed() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sessions--; g.sessions == 0 && !g.done {
		g.timer.Reset(g.srv.cfg.HandshakeTimeout)
	}
}

// refused notes why a login attempt on this connection was refused. A
// person's refusal (a certificate our user CA signed, proven) is audited
// on its own; otherwise the connection counts as anonymous noise when it
// closes without logging in.
func (g *connGuard) refused(cause string, person bool, d refusalDetail) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case person:
		g.person = true
	case g.person, cause == causeNoCertificate && g.cause != "":
		// a person's refusal, or a refused key, says more
	default:
		g.cause, g.refusal = cause, d
	}
}

// markPerson records that this connection reached a person (the second
// factor was asked for): its failures are the CA's to audit.
func (g *connGuard) markPerson() { g.refused("", true, refusalDetail{}) }

func (g *connGuard) closeIfUnauthenticated() {
	g.mu.Lock()
	authed := g.authed
	g.mu.Unlock()
	if !authed {
		g.raw.Close()
	}
}

// closed runs once when the connection is closed, whoever closes it.
func (g *connGuard) closed() {
	g.mu.Lock()
	if g.done {
		g.mu.Unlock()
		return
	}
	g.done = true
	g.timer.Stop()
	authed, person, cause, d := g.authed, g.person, g.cause, g.refusal
	if g.timedOut && !authed {
		cause = causeTimeout
	}
	g.mu.Unlock()
	g.srv.conns.closed(g, authed)
	if authed || person {
		return
	}
	if cause == "" {
		cause = causeLeftBeforeAuth
	}
	g.srv.rep.anonymous(g.client, cause, d)
}

// setSession notes the Lockbox session open on this connection ("" when
// it ends), for the refusals that name it.
func (g *connGuard) setSession(id string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.session = id
}

func (g *connGuard) openSession() string {
	if g == nil {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.session
}

// countReported reports whether one more refusal on this connection may be
// audited one by one (at most maxReportedPerConn).
func (g *connGuard) countReported() bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reported++
	if g.reported == maxReportedPerConn+1 {
		g.srv.log.Warn("further refusals on this connection are neither logged nor audited", "client", g.client, "after", maxReportedPerConn)
	}
	return g.reported <= maxReportedPerConn
}
