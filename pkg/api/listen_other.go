//go:build !linux

package api

import "syscall"

// perConnKeepAlive keeps Go's keepalive set-up of each accepted
// connection (its defaults, as keepAlive* say).
const perConnKeepAlive = 0

// controlListener leaves the listening socket as it is: TCP_DEFER_ACCEPT
// and inherited keepalive are Linux's (see Listen).
func controlListener(network, address string, c syscall.RawConn) error { return nil }
