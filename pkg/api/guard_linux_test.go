package api

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// dialFromAddr dials addr from the local address from and writes a
// request line, as a flood client does before it reads.
func dialFromAddr(t *testing.T, from netip.Addr, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	return c
}

// The raw accepter closes a refused connection as a bare descriptor (its
// client reads a reset or the end, no byte of answer), asks about every
// connection with its peer's address, and returns the first it does not
// refuse as an ordinary *net.TCPConn that carries the call.
func TestRawAccepterClosesRefusedConnectionsAndReturnsTheOthers(t *testing.T) {
	ln, err := Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a := newRawAccepter(ln)
	if a == nil {
		t.Fatal("no raw accepter for a TCP listener on Linux")
	}
	defer a.Close()
	flooder, caller := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")

	refusedConns := []net.Conn{dialFromAddr(t, flooder, ln.Addr().String()), dialFromAddr(t, flooder, ln.Addr().String())}
	good := dialFromAddr(t, caller, ln.Addr().String())

	var asked []netip.Addr
	c, err := a.accept(func(addr netip.Addr) bool {
		asked = append(asked, addr)
		return addr == flooder
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(asked) != 3 || asked[0] != flooder || asked[1] != flooder || asked[2] != caller {
		t.Fatalf("asked about %v; want the two flooder's connections, then the caller's", asked)
	}
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("accepted %T, want *net.TCPConn", c)
	}
	if got := c.RemoteAddr().(*net.TCPAddr).AddrPort(); got != good.LocalAddr().(*net.TCPAddr).AddrPort() {
		t.Fatalf("accepted connection from %v, want the caller's %v", got, good.LocalAddr())
	}
	// The accepted connection carries the call both ways.
	buf := make([]byte, len("GET / HTTP/1.1\r\n\r\n"))
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // checked by the read
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("read %q %v from the accepted connection", buf, err)
	}
	if _, err := c.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	good.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // checked by the read
	if _, err := io.ReadFull(good, buf[:2]); err != nil || string(buf[:2]) != "ok" {
		t.Fatalf("caller read %q %v", buf[:2], err)
	}
	// The refused ones were closed unanswered, reset (their request was
	// unread).
	for i, rc := range refusedConns {
		rc.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // checked by the read
		n, err := rc.Read(buf)
		if n != 0 || !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("refused connection %d read %d bytes, %v; want a reset and nothing", i+1, n, err)
		}
	}
}

// Closing the guarded listener ends an accept waiting in the raw
// accepter with net.ErrClosed, as it ends an ordinary one: net/http's
// Serve returns.
func TestRawAccepterAcceptEndsWhenTheListenerCloses(t *testing.T) {
	ln, err := Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gl := &guardedListener{Listener: ln, raw: newRawAccepter(ln)}
	done := make(chan error, 1)
	go func() {
		_, err := gl.raw.accept(func(netip.Addr) bool { return true })
		done <- err
	}()
	if err := gl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept after Close: %v, want net.ErrClosed", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("the socket still listens after Close")
	}
}
