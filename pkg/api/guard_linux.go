package api

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
)

// newRawAccepter accepts on ln's socket by hand if ln is a TCP listener,
// or returns nil. It accepts on a copy of the listening socket's
// descriptor (TCPListener.File), which the Go poller waits on as it does
// on the listener's own: a listener's RawConn cannot be read.
func newRawAccepter(ln net.Listener) rawAccepter {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil
	}
	f, err := tl.File()
	if err != nil {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close() //nolint:errcheck // not used
		return nil
	}
	return &socketAccepter{addr: tl.Addr(), f: f, rc: rc}
}

// socketAccepter accepts with accept4 on a listening socket's
// descriptor f through the Go poller (RawConn.Read waits for it to be
// readable).
type socketAccepter struct {
	addr   net.Addr
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
}

// Close closes the accepter's copy of the listening socket; an accept
// waiting on it fails with net.ErrClosed.
func (a *socketAccepter) Close() error {
	a.closed.Store(true)
	return a.f.Close()
}

// accept returns the next connection refuse does not refuse; those it
// refuses are closed at once, as descriptors. A connection returned is a
// *net.TCPConn made from its descriptor (net.FileConn).
func (a *socketAccepter) accept(refuse func(netip.Addr) bool) (net.Conn, error) {
	nfd, aerr := -1, error(nil)
	err := a.rc.Read(func(fd uintptr) bool {
		for {
			// Blocking, as os.NewFile wants a descriptor it need not
			// register with the poller; net.FileConn's copy is made
			// non-blocking.
			s, sa, err := syscall.Accept4(int(fd), syscall.SOCK_CLOEXEC)
			switch {
			case errors.Is(err, syscall.EAGAIN):
				return false // wait until the socket is readable
			case errors.Is(err, syscall.EINTR), errors.Is(err, syscall.ECONNABORTED):
				continue
			case err != nil:
				aerr = os.NewSyscallError("accept4", err)
				return true
			}
			if refuse(sockaddrAddr(sa)) {
				syscall.Close(s) //nolint:errcheck // nothing was written to it
				continue
			}
			nfd = s
			return true
		}
	})
	switch {
	case err != nil && a.closed.Load():
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: a.addr, Err: net.ErrClosed}
	case err == nil:
		err = aerr
	}
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: a.addr, Err: err}
	}
	f := os.NewFile(uintptr(nfd), "")
	c, err := net.FileConn(f)
	f.Close() //nolint:errcheck // c has its own copy
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: a.addr, Err: err}
	}
	return c, nil
}

// sockaddrAddr is the IP address of sa (invalid if it has none),
// unmapped.
func sockaddrAddr(sa syscall.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *syscall.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}
