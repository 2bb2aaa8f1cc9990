package sshcert

import (
	"errors"
	"net"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestCheckSourceAddress(t *testing.T) {
	withSource := func(v string) *ssh.Certificate {
		return &ssh.Certificate{Permissions: ssh.Permissions{CriticalOptions: map[string]string{OptSourceAddress: v}}}
	}
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 50022} }
	tests := []struct {
		name string
		cert *ssh.Certificate
		addr net.Addr
		want error
	}{
		{"no option allows any address", &ssh.Certificate{}, tcp("203.0.113.9"), nil},
		{"no option allows unknown address", &ssh.Certificate{}, nil, nil},
		{"inside IPv4 prefix", withSource("10.0.0.0/8,192.0.2.1"), tcp("10.2.3.4"), nil},
		{"exact IPv4 address", withSource("10.0.0.0/8,192.0.2.1"), tcp("192.0.2.1"), nil},
		{"IPv4-mapped IPv6 client", withSource("10.0.0.0/8"), tcp("::ffff:10.9.9.9"), nil},
		{"inside IPv6 prefix", withSource("fd00::/8"), tcp("fd12::1"), nil},
		{"address from String()", withSource("10.0.0.0/8"), fakeAddr("10.1.1.1:22"), nil},
		{"outside", withSource("10.0.0.0/8,192.0.2.1"), tcp("192.0.2.2"), ErrSourceAddress},
		{"IPv6 outside IPv4 list", withSource("10.0.0.0/8"), tcp("fd00::1"), ErrSourceAddress},
		{"nil address", withSource("10.0.0.0/8"), nil, ErrSourceAddress},
		{"typed nil address", withSource("10.0.0.0/8"), (*net.TCPAddr)(nil), ErrSourceAddress},
		{"unix socket address", withSource("10.0.0.0/8"), &net.UnixAddr{Name: "/run/x", Net: "unix"}, ErrSourceAddress},
		{"malformed option", withSource("10.0.0.0/8,nope"), tcp("10.0.0.1"), ErrBadSourceAddress},
		{"empty option", withSource(""), tcp("10.0.0.1"), ErrSourceAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSourceAddress(tc.cert, tc.addr)
			if tc.want != nil && !errors.Is(err, ErrSourceAddress) {
				t.Errorf("CheckSourceAddress(%v) = %v, want it to wrap ErrSourceAddress", tc.addr, err)
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("CheckSourceAddress(%v) = %v, want %v", tc.addr, err, tc.want)
			}
		})
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
