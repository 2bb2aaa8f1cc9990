// Package breakglass builds and reads break-glass certificates: grant
// certificates signed offline on the CA host, with the user CA key read
// from its file and no database, for an emergency in which the CA or its
// database is down.
//
// A break-glass certificate is a user certificate like a grant's, with
// the principal ROLE@RESOURCE, that lasts at most MaxDuration and carries
// the extension Extension: a JSON Grant that says who asked, why, and the
// target the bastion would otherwise have learnt from the CA (address,
// login, pinned host key), with a hop certificate signed by the hop CA for
// the bastion's registered identity key. The hop certificate is public:
// it is of no use without the bastion's private key. Everything in the
// extension is covered by the user CA's signature.
//
// Issue and Of are pure and know no policy: the caller (ca break-glass)
// looks the role and the resource up in the policy. AppendRecord and
// ReadRecords keep the local append-only record of issuances, for the CA
// to audit when it is back.
package breakglass

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// Extension names the certificate extension that marks a break-glass
// certificate; its value is a JSON Grant.
const Extension = "break-glass@lockbox"

// KeyIDPrefix starts the key ID of every break-glass certificate:
// "break-glass/USER/RESOURCE".
const KeyIDPrefix = "break-glass/"

// MaxDuration is the longest a break-glass certificate may last.
const MaxDuration = time.Hour

// maxReason bounds the reason's length, in bytes.
const maxReason = 500

// Errors for a request that cannot be signed or an extension that cannot
// be read.
var (
	ErrTooLong   = errors.New("break-glass: a break-glass certificate lasts at most 1h")
	ErrBadInput  = errors.New("break-glass: bad request")
	ErrBadGrant  = errors.New("break-glass: bad break-glass extension")
	ErrNotGlass  = errors.New("break-glass: not a break-glass certificate")
	ErrWrongHost = errors.New("break-glass: the hop certificate is not for this bastion")
)

// Grant is the break-glass extension's content.
type Grant struct {
	User     string    `json:"user"`
	Reason   string    `json:"reason"`
	Role     string    `json:"role"`
	Resource string    `json:"resource"`
	Login    string    `json:"login"`   // the account on the target
	Address  string    `json:"address"` // the target, host:port
	HostKey  string    `json:"host_key,omitempty"`
	Bastion  string    `json:"bastion"`
	HopCert  string    `json:"hop_cert"` // authorized_keys line
	Issued   time.Time `json:"issued"`
	NotAfter time.Time `json:"not_after"`
}

// Request is what ca break-glass signs: the caller fills the target and
// role fields from the policy.
type Request struct {
	User, Reason, Role, Resource string
	Duration                     time.Duration
	Key                          ssh.PublicKey // the person's key
	// From the policy.
	Login, Address, HostKey string
	ForceCommand            string
	Interactive             bool
	Bastion                 string
	BastionKey              ssh.PublicKey // the bastion's registered identity key
	Egress                  []string      // the bastion's egress prefixes
}

// Issue signs the hop certificate for the bastion's identity key and the
// break-glass certificate for the person's key, both valid from now (less
// skew) for req.Duration, at most MaxDuration.
func Issue(req Request, userCA, hopCA ssh.Signer, now time.Time, skew time.Duration, rand io.Reader) (*ssh.Certificate, Grant, error) {
	if err := checkRequest(req); err != nil {
		return nil, Grant{}, err
	}
	now = now.Truncate(time.Second)
	until := now.Add(req.Duration)
	principal := sshcert.Principal(req.Role, req.Resource)
	hopSerial, err := sshcert.NewSerial(rand)
	if err != nil {
		return nil, Grant{}, err
	}
	hop, err := sshcert.UserCertificate(req.BastionKey, sshcert.UserSpec{
		Serial: hopSerial, KeyID: fmt.Sprintf("hop/%s/%s/%s%s", req.Bastion, req.User, KeyIDPrefix, req.Resource),
		Principals: []string{principal}, ForceCommand: req.ForceCommand, SourceAddress: req.Egress,
		PermitPTY: req.Interactive, ValidAfter: now.Add(-skew), ValidBefore: until,
	})
	if err != nil {
		return nil, Grant{}, fmt.Errorf("building the hop certificate: %w", err)
	}
	if err := sshcert.Sign(hop, hopCA, rand); err != nil {
		return nil, Grant{}, fmt.Errorf("signing the hop certificate: %w", err)
	}
	g := Grant{User: req.User, Reason: req.Reason, Role: req.Role, Resource: req.Resource, Login: req.Login,
		Address: req.Address, HostKey: req.HostKey, Bastion: req.Bastion,
		HopCert: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hop))), Issued: now, NotAfter: until}
	ext, err := json.Marshal(g)
	if err != nil {
		return nil, Grant{}, err
	}
	serial, err := sshcert.NewSerial(rand)
	if err != nil {
		return nil, Grant{}, err
	}
	cert, err := sshcert.UserCertificate(req.Key, sshcert.UserSpec{
		Serial: serial, KeyID: KeyIDPrefix + req.User + "/" + req.Resource, Principals: []string{principal},
		ForceCommand: req.ForceCommand, PermitPTY: req.Interactive, ValidAfter: now.Add(-skew), ValidBefore: until,
	})
	if err != nil {
		return nil, Grant{}, fmt.Errorf("building the break-glass certificate: %w", err)
	}
	cert.Extensions[Extension] = string(ext)
	if err := sshcert.Sign(cert, userCA, rand); err != nil {
		return nil, Grant{}, fmt.Errorf("signing the break-glass certificate: %w", err)
	}
	return cert, g, nil
}

func checkRequest(req Request) error {
	switch {
	case req.Duration <= 0:
		return fmt.Errorf("%w: --duration must be positive", ErrBadInput)
	case req.Duration > MaxDuration:
		return fmt.Errorf("%w (asked for %s)", ErrTooLong, req.Duration)
	case req.Key == nil || req.BastionKey == nil:
		return fmt.Errorf("%w: no key", ErrBadInput)
	}
	for name, v := range map[string]string{"user": req.User, "role": req.Role, "resource": req.Resource,
		"bastion": req.Bastion, "login": req.Login, "address": req.Address} {
		if v == "" || strings.ContainsAny(v, "/ ") || !printable(v) {
			return fmt.Errorf("%w: %s %q: empty, or a space, a slash or a control character", ErrBadInput, name, v)
		}
	}
	if strings.TrimSpace(req.Reason) == "" || len(req.Reason) > maxReason || !printable(req.Reason) {
		return fmt.Errorf("%w: --reason must say why, in at most %d bytes without control characters", ErrBadInput, maxReason)
	}
	return nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// Of reads the break-glass grant of cert. It returns ErrNotGlass when
// cert carries no break-glass extension, and an error wrapping ErrBadGrant
// when the extension does not read as a grant that agrees with the
// certificate. It does not check signatures: check the certificate first.
func Of(cert *ssh.Certificate) (Grant, error) {
	v, ok := cert.Extensions[Extension]
	if !ok {
		return Grant{}, ErrNotGlass
	}
	g, err := Parse([]byte(v))
	if err != nil {
		return Grant{}, err
	}
	if cert.KeyId != KeyIDPrefix+g.User+"/"+g.Resource {
		return Grant{}, fmt.Errorf("%w: the key ID %q does not match the grant", ErrBadGrant, cert.KeyId)
	}
	if len(cert.ValidPrincipals) != 1 || cert.ValidPrincipals[0] != sshcert.Principal(g.Role, g.Resource) {
		return Grant{}, fmt.Errorf("%w: the principals do not match the grant", ErrBadGrant)
	}
	return g, nil
}

// Parse reads a break-glass extension's value strictly: unknown fields,
// missing fields and trailing data are errors.
func Parse(data []byte) (Grant, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var g Grant
	if err := dec.Decode(&g); err != nil {
		return Grant{}, fmt.Errorf("%w: %w", ErrBadGrant, err)
	}
	if dec.More() {
		return Grant{}, fmt.Errorf("%w: trailing data", ErrBadGrant)
	}
	if err := checkRequest(Request{User: g.User, Reason: g.Reason, Role: g.Role, Resource: g.Resource,
		Bastion: g.Bastion, Login: g.Login, Address: g.Address, Duration: time.Second, Key: noKey{}, BastionKey: noKey{}}); err != nil {
		return Grant{}, fmt.Errorf("%w: %w", ErrBadGrant, err)
	}
	if g.HopCert == "" || g.Issued.IsZero() || !g.NotAfter.After(g.Issued) || g.NotAfter.Sub(g.Issued) > MaxDuration {
		return Grant{}, fmt.Errorf("%w: no hop certificate, or a bad validity", ErrBadGrant)
	}
	return g, nil
}

// Hop parses the grant's hop certificate and checks that it certifies key
// (the bastion's identity key).
func (g Grant) Hop(key ssh.PublicKey) (*ssh.Certificate, error) {
	parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(g.HopCert))
	if err != nil {
		return nil, fmt.Errorf("%w: hop certificate: %w", ErrBadGrant, err)
	}
	cert, ok := parsed.(*ssh.Certificate)
	if !ok {
		return nil, fmt.Errorf("%w: the hop certificate is a plain key", ErrBadGrant)
	}
	if !bytes.Equal(cert.Key.Marshal(), key.Marshal()) {
		return nil, ErrWrongHost
	}
	return cert, nil
}

// noKey stands in for the keys checkRequest asks for when Parse reuses it.
type noKey struct{ ssh.PublicKey }
