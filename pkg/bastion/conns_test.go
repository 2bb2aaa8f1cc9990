package bastion

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialFrom opens a TCP connection to addr from the loopback address src
// (any of 127/8 works on Linux), so that tests can stand for many sources.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stalled is a connection that sent at most a version line and then
// nothing; its reader notes when the server closed it.
type stalled struct {
	conn   net.Conn
	opened time.Time
	banner string        // the server's version line, if it sent one
	first  chan struct{} // closed once the version line (or the end) came
	closed chan struct{} // closed once reads end
	at     time.Time
}

func openStalled(t *testing.T, src, addr string, sendVersion bool) *stalled {
	c := dialFrom(t, src, addr)
	st := &stalled{conn: c, opened: time.Now(), first: make(chan struct{}), closed: make(chan struct{})}
	if sendVersion {
		if _, err := io.WriteString(c, "SSH-2.0-stall\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		defer close(st.closed)
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		st.banner = line
		close(st.first)
		for err == nil {
			_, err = r.ReadByte()
		}
		st.at = time.Now()
	}()
	return st
}

// waitClosed waits until st's connection is closed or within has passed.
func (st *stalled) waitClosed(within time.Duration) bool {
	select {
	case <-st.closed:
		return true
	case <-time.After(within):
		return false
	}
}

// Connections that never log in, whether they sent nothing or a version
// line and then stalled, are closed at the handshake timeout (gliderlabs
// clears a deadline set at accept, so a timer of our own must do it), and
// each is counted for the CA's audit, not audited one by one.
func TestStalledConnectionsAreClosedAtTheHandshakeTimeout(t *testing.T) {
	const timeout = time.Second
	tb := startBastionWith(t, func(c *Config) { c.HandshakeTimeout = timeout; c.RefusalReportInterval = 200 * time.Millisecond })
	var conns []*stalled
	for i := range 20 {
		conns = append(conns, openStalled(t, "127.0.0.1", tb.addr, i%2 == 0))
	}
	for i, st := range conns {
		if !st.waitClosed(timeout + 2*time.Second) {
			t.Fatalf("connection %d still open %v after it was opened", i, time.Since(st.opened).Round(time.Millisecond))
		}
		if !strings.HasPrefix(st.banner, "SSH-2.0-Lockbox") {
			t.Fatalf("connection %d was not served (banner %q)", i, st.banner)
		}
		if held := st.at.Sub(st.opened); held < timeout-100*time.Millisecond || held > timeout+time.Second {
			t.Errorf("connection %d closed after %v; want the handshake timeout %v (+1s at most)", i, held.Round(time.Millisecond), timeout)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for tb.ca.counts()[[2]string{"127.0.0.1", causeTimeout}] != 20 {
		if time.Now().After(deadline) {
			t.Fatalf("counts reported: %v; want 20 timeouts from 127.0.0.1", tb.ca.counts())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.ca.mu.Lock()
	defer tb.ca.mu.Unlock()
	for _, r := range tb.ca.reported {
		if len(r.Refusals) > 0 {
			t.Fatalf("anonymous connections were reported one by one: %+v", r.Refusals)
		}
	}
}

// loggedIn starts a bastion with the handshake timeout and logs in to it
// as alice.
func loggedIn(t *testing.T, timeout time.Duration) *ssh.Client {
	tb := startBastionWith(t, func(c *Config) { c.HandshakeTimeout = timeout })
	alice := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1")
	c, err := dial(tb, "db-1", ssh.PublicKeys(alice), totpAnswer("123456"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A connection that logged in but opens no session is closed once the
// handshake timeout passes again (a client whose grant was revoked must
// not hold a connection for ever).
func TestLoggedInConnectionWithoutASessionIsClosed(t *testing.T) {
	const timeout = time.Second
	c := loggedIn(t, timeout)
	since := time.Now()
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout + 2*time.Second):
		t.Fatalf("the connection is still open %v after logging in without a session", time.Since(since).Round(time.Millisecond))
	}
	if held := time.Since(since); held < timeout-100*time.Millisecond {
		t.Fatalf("closed after %v, before the timeout %v", held, timeout)
	}
}

// A session keeps its connection open past the timeout; once the session
// ends the timer starts again.
func TestASessionKeepsItsConnectionOpen(t *testing.T) {
	const timeout = time.Second
	c := loggedIn(t, timeout)
	ch, _, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
		t.Fatal("a connection with an open session channel was closed")
	case <-time.After(timeout + 500*time.Millisecond):
	}
	ch.Close()
	select {
	case <-done:
	case <-time.After(timeout + 2*time.Second):
		t.Fatal("the connection stayed open after its session channel closed")
	}
}

// Connections not yet logged in are capped per source and in total; one
// over a cap is closed before the SSH banner and counted, and a slot
// frees when a connection goes.
func TestUnauthenticatedConnectionsAreCappedPerSourceAndInTotal(t *testing.T) {
	tb := startBastionWith(t, func(c *Config) {
		c.HandshakeTimeout = time.Minute
		c.MaxUnauthenticated, c.MaxUnauthenticatedPerSource = 5, 3
		c.RefusalReportInterval = 200 * time.Millisecond
	})
	// served reports whether a new connection from src got the SSH
	// banner (a refused one is closed before it).
	served := func(src string) (*stalled, bool) {
		st := openStalled(t, src, tb.addr, false)
		select {
		case <-st.first:
		case <-time.After(5 * time.Second):
			t.Fatalf("a connection from %s got neither the banner nor closed", src)
		}
		return st, strings.HasPrefix(st.banner, "SSH-2.0-")
	}
	var first []*stalled
	for i := range 3 {
		st, ok := served("127.0.0.1")
		if !ok {
			t.Fatalf("connection %d from 127.0.0.1 refused under the cap", i)
		}
		first = append(first, st)
	}
	if _, ok := served("127.0.0.1"); ok {
		t.Fatal("a fourth connection from 127.0.0.1 was served over the per-source cap of 3")
	}
	for i := range 2 {
		if _, ok := served("127.0.0.2"); !ok {
			t.Fatalf("connection %d from 127.0.0.2 refused", i)
		}
	}
	if _, ok := served("127.0.0.3"); ok {
		t.Fatal("a sixth connection was served over the total cap of 5")
	}
	// A real login from 127.0.0.1 is over the caps too.
	alice := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1")
	if c, err := dial(tb, "db-1", ssh.PublicKeys(alice), totpAnswer("123456")); err == nil {
		c.Close()
		t.Fatal("a login succeeded over the total cap")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := tb.ca.counts()
		if c[[2]string{"127.0.0.1", causeOverCap}] == 2 && c[[2]string{"127.0.0.3", causeOverCap}] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts reported: %v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// One of 127.0.0.1's connections goes: a slot is free again.
	first[0].conn.Close()
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, ok := served("127.0.0.1"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot freed after a connection closed")
		}
	}
}
