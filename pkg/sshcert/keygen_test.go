package sshcert

import (
	"crypto/rand"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

// keygenListing is what `ssh-keygen -L` prints about a certificate.
type keygenListing struct {
	Type, PublicKey, SigningCA, KeyID, Serial, Valid string
	Principals, CriticalOptions, Extensions          []string
}

// listCert runs `ssh-keygen -L` on cert (in UTC) and parses its output.
func listCert(t *testing.T, keygen string, cert *ssh.Certificate) keygenListing {
	t.Helper()
	path := writeCert(t, t.TempDir(), "grant", cert)
	cmd := exec.Command(keygen, "-L", "-f", path)
	cmd.Env = []string{"TZ=UTC", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -L: %v\n%s", err, out)
	}
	return parseListing(t, string(out))
}

func parseListing(t *testing.T, out string) keygenListing {
	t.Helper()
	var l keygenListing
	var list *[]string
	fields := map[string]*string{
		"Type": &l.Type, "Public key": &l.PublicKey, "Signing CA": &l.SigningCA,
		"Key ID": &l.KeyID, "Serial": &l.Serial, "Valid": &l.Valid,
	}
	lists := map[string]*[]string{
		"Principals": &l.Principals, "Critical Options": &l.CriticalOptions, "Extensions": &l.Extensions,
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n")[1:] {
		text := strings.TrimLeft(line, " \t")
		if len(line)-len(text) >= 16 || strings.HasPrefix(line, "\t\t") {
			*list = append(*list, text)
			continue
		}
		name, value, _ := strings.Cut(text, ":")
		value = strings.TrimSpace(value)
		if f, ok := fields[name]; ok {
			*f = value
		} else if f, ok := lists[name]; ok {
			list, *f = f, []string{}
		} else {
			t.Fatalf("unexpected ssh-keygen -L line %q", line)
		}
	}
	return l
}

// keygenKeyName is how ssh-keygen names a key type in -L output.
func keygenKeyName(k ssh.PublicKey) string {
	switch k.Type() {
	case ssh.KeyAlgoED25519:
		return "ED25519"
	case ssh.KeyAlgoRSA:
		return "RSA"
	default:
		return "ECDSA"
	}
}

func keygenValid(after, before time.Time) string {
	const layout = "2006-01-02T15:04:05"
	return "from " + after.UTC().Format(layout) + " to " + before.UTC().Format(layout)
}

func TestCertificatesAsOpenSSHListsThem(t *testing.T) {
	keygen := requireTool(t, "ssh-keygen")
	cas := []struct {
		name   string
		signer ssh.Signer
		algo   string
	}{
		{"ed25519 CA", newSigner(t, KeyEd25519), "ssh-ed25519"},
		{"ecdsa-p256 CA", newSigner(t, KeyECDSAP256), "ecdsa-sha2-nistp256"},
		{"rsa CA signs with rsa-sha2-512", rsaSigner(t), "rsa-sha2-512"},
	}
	for _, ca := range cas {
		for _, tc := range listingCases() {
			t.Run(ca.name+"/"+tc.name, func(t *testing.T) {
				subject := ed25519Pub(t)
				cert, err := tc.build(subject)
				if err != nil {
					t.Fatal(err)
				}
				if err := Sign(cert, ca.signer, rand.Reader); err != nil {
					t.Fatal(err)
				}
				want := tc.want
				want.PublicKey = "ED25519-CERT " + ssh.FingerprintSHA256(subject)
				caPub := ca.signer.PublicKey()
				want.SigningCA = keygenKeyName(caPub) + " " + ssh.FingerprintSHA256(caPub) + " (using " + ca.algo + ")"
				if diff := cmp.Diff(want, listCert(t, keygen, cert)); diff != "" {
					t.Errorf("ssh-keygen -L differs (-want +got):\n%s", diff)
				}
			})
		}
	}
}

type listingCase struct {
	name  string
	build func(ssh.PublicKey) (*ssh.Certificate, error)
	want  keygenListing // PublicKey and SigningCA filled in by the test
}

func listingCases() []listingCase {
	userType := "ssh-ed25519-cert-v01@openssh.com user certificate"
	valid := keygenValid(t0, t0.Add(time.Hour))
	user := func(edit func(*UserSpec)) func(ssh.PublicKey) (*ssh.Certificate, error) {
		return func(pub ssh.PublicKey) (*ssh.Certificate, error) {
			spec := grantSpec()
			edit(&spec)
			return UserCertificate(pub, spec)
		}
	}
	return []listingCase{{
		name:  "interactive grant has only permit-pty",
		build: user(func(*UserSpec) {}),
		want: keygenListing{Type: userType, KeyID: `"alice/req-01HX"`, Serial: "42", Valid: valid,
			Principals: []string{"admin@web-1"}, CriticalOptions: []string{}, Extensions: []string{"permit-pty"}},
	}, {
		name: "non-interactive grant has force-command and no extensions",
		build: user(func(s *UserSpec) {
			s.PermitPTY, s.ForceCommand = false, "/usr/bin/systemctl restart app"
			s.Principals = []string{"deploy@web-1", "deploy@web-2"}
		}),
		want: keygenListing{Type: userType, KeyID: `"alice/req-01HX"`, Serial: "42", Valid: valid,
			Principals:      []string{"deploy@web-1", "deploy@web-2"},
			CriticalOptions: []string{"force-command /usr/bin/systemctl restart app"}, Extensions: []string{}},
	}, {
		name: "hop certificate has source-address",
		build: user(func(s *UserSpec) {
			s.KeyID, s.Serial = "bastion-hop/alice/req-01HX", 1<<63+5
			s.SourceAddress = []string{"10.1.0.0/16", "fd00::1"}
		}),
		want: keygenListing{Type: userType, KeyID: `"bastion-hop/alice/req-01HX"`,
			Serial: strconv.FormatUint(1<<63+5, 10), Valid: valid, Principals: []string{"admin@web-1"},
			CriticalOptions: []string{"source-address 10.1.0.0/16,fd00::1"}, Extensions: []string{"permit-pty"}},
	}, {
		name: "host certificate has hostnames and nothing else",
		build: func(pub ssh.PublicKey) (*ssh.Certificate, error) {
			return HostCertificate(pub, HostSpec{Serial: 9, KeyID: "host/web-1", Hostnames: []string{"web-1", "web-1.internal"},
				ValidAfter: t0, ValidBefore: t0.Add(time.Hour)})
		},
		want: keygenListing{Type: "ssh-ed25519-cert-v01@openssh.com host certificate", KeyID: `"host/web-1"`,
			Serial: "9", Valid: valid, Principals: []string{"web-1", "web-1.internal"},
			CriticalOptions: []string{}, Extensions: []string{}},
	}}
}
