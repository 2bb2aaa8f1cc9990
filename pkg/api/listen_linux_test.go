package api_test

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/api"
)

// A connection that has sent nothing is not handed to the server; once
// its first bytes arrive it is, with them ready to read.
func TestListenHandsOverAConnectionOnlyOnceItSends(t *testing.T) {
	ln, c := listenAndDial(t)
	tl := ln.(*net.TCPListener)
	// The kernel holds a silent connection for 10 seconds; a fraction of
	// that is enough to see it is held, however slow the machine.
	tl.SetDeadline(time.Now().Add(300 * time.Millisecond)) //nolint:errcheck // a TCP listener
	if got, err := tl.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		if got != nil {
			got.Close()
		}
		t.Fatalf("Accept of a connection that sent nothing: %v, want it held (deadline exceeded)", err)
	}
	if _, err := c.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	tl.SetDeadline(time.Time{}) //nolint:errcheck // a TCP listener
	got, err := tl.Accept()
	if err != nil {
		t.Fatalf("Accept once the connection sent a byte: %v", err)
	}
	defer got.Close()
	b := make([]byte, 1)
	got.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // a TCP connection
	if n, err := got.Read(b); n != 1 || b[0] != 'G' {
		t.Fatalf("first read of the accepted connection: %d %q %v, want the byte sent", n, b[:n], err)
	}
}

// Accepted connections keep TCP keepalive with Go's defaults, inherited
// from the listening socket rather than set on each one.
func TestListenConnectionsKeepTCPKeepalive(t *testing.T) {
	ln, c := listenAndDial(t)
	if _, err := c.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	got, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	raw, err := got.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		name       string
		level, opt int
		want       int
	}{
		{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15},
		{"TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15},
		{"TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 9},
		{"TCP_NODELAY", syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
	} {
		t.Run(o.name, func(t *testing.T) {
			var v int
			var serr error
			if err := raw.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), o.level, o.opt) }); err != nil || serr != nil {
				t.Fatal(err, serr)
			}
			if v != o.want {
				t.Errorf("%s of an accepted connection = %d, want %d", o.name, v, o.want)
			}
		})
	}
}

// listenAndDial listens as the CA does and opens one connection to it.
func listenAndDial(t *testing.T) (net.Listener, net.Conn) {
	t.Helper()
	ln, err := api.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ln, c
}

// The API listens on plain TCP, not on the Multipath TCP socket Go makes
// by default, so that each connection is one TCP socket and nothing more.
func TestListenIsPlainTCP(t *testing.T) {
	ln, err := api.Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var proto int
	var perr error
	if err := rc.Control(func(fd uintptr) {
		proto, perr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PROTOCOL)
	}); err != nil || perr != nil {
		t.Fatal(err, perr)
	}
	if proto != syscall.IPPROTO_TCP {
		t.Fatalf("listening socket's protocol is %d, want %d (TCP; 262 is MPTCP)", proto, syscall.IPPROTO_TCP)
	}
}
