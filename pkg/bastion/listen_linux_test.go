package bastion

import (
	"net"
	"syscall"
	"testing"
)

// The bastion listens on plain TCP, not on the Multipath TCP socket Go
// makes by default.
func TestListenIsPlainTCP(t *testing.T) {
	ln, err := Listen(t.Context(), "127.0.0.1:0")
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
