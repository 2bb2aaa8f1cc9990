package api

import (
	"context"
	"net"
	"time"
)

// deferAccept is how long the kernel holds a connection that has sent
// nothing before handing it to Accept anyway (where the platform can): as
// long as the server's ReadHeaderTimeout gives a caller for its headers.
const deferAccept = 10 * time.Second

// TCP keepalive of the API's connections: Go's defaults (a probe after 15
// seconds idle, then every 15 seconds, 9 unanswered ones end the
// connection).
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// Listen listens for the API on the TCP address addr; cmd/ca serves on it,
// and so do the tests and benchmarks. Where the platform can (Linux), two
// things make each new connection cheaper for the CA, which is what a
// flood that opens one per call (as curl does) costs it:
//
//   - TCP_DEFER_ACCEPT: a connection is handed to the server only once its
//     first bytes have arrived, so that it costs one wake-up and one read
//     instead of a wake-up to accept it and another when its request
//     comes; and a connection that never sends anything costs no
//     goroutine until deferAccept has passed.
//   - TCP keepalive is set once on the listening socket, which accepted
//     connections inherit, instead of with four system calls on every
//     accepted connection.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: controlListener, KeepAlive: perConnKeepAlive}
	// Go makes listeners Multipath TCP by default on Linux (since Go
	// 1.24): every plain TCP client is then served through an MPTCP
	// socket that falls back to TCP. The API gains nothing from several
	// paths, so it listens on plain TCP.
	lc.SetMultipathTCP(false)
	return lc.Listen(ctx, "tcp", addr)
}
