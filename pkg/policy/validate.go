package policy

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Names are used in SSH certificate principals (ROLE@RESOURCE), so they must
// never contain '@', wildcards, commas, whitespace or control characters.
var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	loginRE    = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	portRE     = regexp.MustCompile(`^[0-9]{1,5}$`)
)

// keyAlgoDSA is spelt out: x/crypto deprecates its constant, and we only
// need it to refuse such keys.
const keyAlgoDSA = "ssh-dss"

const nameRule = "use 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"

// ValidName reports whether s is a valid name for a user, group, team, role,
// resource, bastion or tag. Valid names are safe inside SSH principals.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidLogin reports whether s is a valid POSIX account name for a role's login.
func ValidLogin(s string) bool { return loginRE.MatchString(s) }

// parseKey parses one authorized_keys line holding a plain public key: no
// options, no certificate, no DSA, and RSA of at least 2048 bits.
func parseKey(line string) (ssh.PublicKey, error) {
	line = strings.TrimSpace(line)
	if strings.ContainsAny(line, "\r\n") {
		return nil, errors.New("give one key per list item, on one line")
	}
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("not an SSH public key in authorized_keys format (%v)", err)
	}
	if len(options) > 0 {
		return nil, errors.New("authorized_keys options are not allowed here; give just the key")
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return nil, errors.New("this is a certificate; give the plain public key")
	}
	if key.Type() == keyAlgoDSA {
		return nil, errors.New("DSA keys are not allowed; use ed25519")
	}
	if ck, ok := key.(ssh.CryptoPublicKey); ok {
		if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too weak; use ed25519 or RSA of at least 2048 bits", rk.N.BitLen())
		}
	}
	return key, nil
}

// checkAddress checks a host:port target address.
func checkAddress(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("expected host:port, such as 10.0.0.5:22 or db-1.example.com:22")
	}
	if p, err := strconv.Atoi(port); !portRE.MatchString(port) || err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q must be a number from 1 to 65535", port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return errors.New("IPv6 zones are not allowed")
		}
		return nil
	}
	if !hostnameRE.MatchString(host) {
		return fmt.Errorf("host %q is neither an IP address nor a host name", host)
	}
	return nil
}

// parseEgress parses a CIDR or a single IP address (as a /32 or /128).
func parseEgress(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errors.New("not a CIDR such as 10.0.0.0/24")
		}
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("host bits are set; did you mean %s?", p.Masked())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("not an IP address or a CIDR such as 10.0.0.0/24")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
