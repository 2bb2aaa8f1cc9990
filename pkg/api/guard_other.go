//go:build !linux

package api

import "net"

// newRawAccepter: only Linux accepts by hand (see Guard).
func newRawAccepter(net.Listener) rawAccepter { return nil }
