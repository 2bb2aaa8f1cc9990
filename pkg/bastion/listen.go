package bastion

import (
	"context"
	"net"
)

// Listen listens for SSH clients on the TCP address addr; cmd/bastion
// serves on it. Go makes listeners Multipath TCP by default on Linux
// (since Go 1.24), so that every plain TCP client, as OpenSSH's is, would
// be served through an MPTCP socket fallen back to TCP. The bastion gains
// nothing from several paths, so it listens on plain TCP.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	return lc.Listen(ctx, "tcp", addr)
}
