package bastion

import (
	"net"
	"sync/atomic"
	"syscall"
)

// quickAckConn asks the kernel to acknowledge every segment at once
// (TCP_QUICKACK) while the handshake runs. OpenSSH clients leave Nagle's
// algorithm on until a session starts, so each pair of small handshake
// packets they send (KEXINIT then the key exchange; NEWKEYS then the
// service request) waits for the acknowledgement of the first; a delayed
// acknowledgement (40 ms on Linux) would add that wait twice to every
// login. The kernel drops quick-ack mode by itself, hence before each read.
// Its writes are coalesced (coalesce.go) and its reads buffered while
// data streams (readbuf.go).
type quickAckConn struct {
	*coalescingConn
	tcp  *net.TCPConn
	done atomic.Bool // authenticated: back to the kernel's defaults
}

func withQuickAck(c net.Conn) net.Conn {
	if tc, ok := c.(*net.TCPConn); ok {
		return &quickAckConn{coalescingConn: coalesceWrites(tc), tcp: tc}
	}
	return c
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	if !c.done.Load() {
		if raw, err := c.tcp.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { //nolint:errcheck // an optimisation; nothing to do if it fails
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1) //nolint:errcheck
			})
		}
	}
	return c.coalescingConn.Read(p)
}
