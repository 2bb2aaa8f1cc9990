package sshcert

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/crypto/ssh"
)

// CheckSourceAddress returns an error wrapping [ErrSourceAddress] if cert
// carries a source-address critical option and addr is not inside it. A
// certificate without the option allows any address. A missing address,
// one that is not an IP address, or a malformed option (also
// [ErrBadSourceAddress]) is refused. IPv4-mapped IPv6 addresses are matched
// as IPv4.
func CheckSourceAddress(cert *ssh.Certificate, addr net.Addr) error {
	opt, ok := cert.CriticalOptions[OptSourceAddress]
	if !ok {
		return nil
	}
	prefixes, err := parseSourceAddress(strings.Split(opt, ","))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSourceAddress, err)
	}
	ip, ok := addrIP(addr)
	if !ok {
		return fmt.Errorf("%w: client address %v is not an IP address", ErrSourceAddress, addr)
	}
	for _, p := range prefixes {
		if p.Contains(ip) {
			return nil
		}
	}
	return fmt.Errorf("%w: %v", ErrSourceAddress, ip)
}

// addrIP extracts the IP address, unmapped and without zone, from addr.
func addrIP(addr net.Addr) (netip.Addr, bool) {
	var ip netip.Addr
	switch a := addr.(type) {
	case nil:
		return netip.Addr{}, false
	case *net.TCPAddr:
		if a != nil {
			ip, _ = netip.AddrFromSlice(a.IP)
		}
	case *net.UDPAddr:
		if a != nil {
			ip, _ = netip.AddrFromSlice(a.IP)
		}
	case *net.IPAddr:
		if a != nil {
			ip, _ = netip.AddrFromSlice(a.IP)
		}
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}, false
		}
		ip = ap.Addr()
	}
	if !ip.IsValid() {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}
