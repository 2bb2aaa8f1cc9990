package api

import (
	"fmt"
	"syscall"
)

// perConnKeepAlive turns off Go's keepalive set-up of each accepted
// connection: they inherit the listening socket's (controlListener).
const perConnKeepAlive = -1

// controlListener sets TCP_DEFER_ACCEPT and TCP keepalive on the listening
// socket (see Listen).
func controlListener(network, address string, c syscall.RawConn) error {
	opts := []struct {
		name       string
		level, opt int
		value      int
	}{
		{"TCP_DEFER_ACCEPT", syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, int(deferAccept.Seconds())},
		{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, int(keepAliveIdle.Seconds())},
		{"TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, int(keepAliveInterval.Seconds())},
		{"TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAliveCount},
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		for _, o := range opts {
			if err := syscall.SetsockoptInt(int(fd), o.level, o.opt, o.value); err != nil {
				serr = fmt.Errorf("setting %s on %s: %w", o.name, address, err)
				return
			}
		}
	})
	if err != nil {
		return fmt.Errorf("setting socket options on %s: %w", address, err)
	}
	return serr
}
