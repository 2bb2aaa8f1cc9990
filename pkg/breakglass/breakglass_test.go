package breakglass

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func signer(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type fixture struct {
	userCA, hopCA, person, bastion ssh.Signer
	req                            Request
}

func newFixture(t testing.TB) fixture {
	f := fixture{userCA: signer(t), hopCA: signer(t), person: signer(t), bastion: signer(t)}
	f.req = Request{User: "alice", Reason: "CA database down, db-1 disk full", Role: "dba", Resource: "db-1",
		Duration: 30 * time.Minute, Key: f.person.PublicKey(), Login: "postgres", Address: "10.0.0.5:22",
		Interactive: true, Bastion: "bastion-1", BastionKey: f.bastion.PublicKey(), Egress: []string{"10.0.0.1"}}
	return f
}

var now = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func TestIssueSignsAReadableBreakGlassCertificate(t *testing.T) {
	f := newFixture(t)
	cert, g, err := Issue(f.req, f.userCA, f.hopCA, now, time.Minute, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if cert.KeyId != "break-glass/alice/db-1" || len(cert.ValidPrincipals) != 1 || cert.ValidPrincipals[0] != "dba@db-1" {
		t.Fatalf("key ID %q principals %v", cert.KeyId, cert.ValidPrincipals)
	}
	if got := time.Unix(int64(cert.ValidBefore), 0).UTC(); !got.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("valid before %s", got)
	}
	checker := ssh.CertChecker{IsUserAuthority: func(k ssh.PublicKey) bool {
		return string(k.Marshal()) == string(f.userCA.PublicKey().Marshal())
	}, Clock: func() time.Time { return now }, SupportedCriticalOptions: []string{"force-command", "source-address"}}
	if err := checker.CheckCert("dba@db-1", cert); err != nil {
		t.Fatalf("the user CA's checker refuses it: %v", err)
	}
	read, err := Of(cert)
	if err != nil {
		t.Fatal(err)
	}
	if read.User != "alice" || read.Reason != f.req.Reason || read.Login != "postgres" || read.Address != "10.0.0.5:22" || read.Bastion != "bastion-1" {
		t.Fatalf("grant read back: %+v", read)
	}
	if read.HopCert != g.HopCert {
		t.Fatal("the hop certificate did not round-trip")
	}
	hop, err := read.Hop(f.bastion.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if hop.SignatureKey == nil || string(hop.SignatureKey.Marshal()) != string(f.hopCA.PublicKey().Marshal()) {
		t.Fatal("the hop certificate is not signed by the hop CA")
	}
	if hop.CriticalOptions["source-address"] != "10.0.0.1" || hop.ValidPrincipals[0] != "dba@db-1" {
		t.Fatalf("hop certificate: %v %v", hop.CriticalOptions, hop.ValidPrincipals)
	}
	if _, err := read.Hop(f.person.PublicKey()); !errors.Is(err, ErrWrongHost) {
		t.Fatalf("a hop certificate for another key: %v", err)
	}
}

func TestIssueRefusesMoreThanAnHour(t *testing.T) {
	f := newFixture(t)
	f.req.Duration = MaxDuration
	if _, _, err := Issue(f.req, f.userCA, f.hopCA, now, 0, rand.Reader); err != nil {
		t.Fatalf("exactly 1h: %v", err)
	}
	f.req.Duration = MaxDuration + time.Second
	if _, _, err := Issue(f.req, f.userCA, f.hopCA, now, 0, rand.Reader); !errors.Is(err, ErrTooLong) {
		t.Fatalf("1h1s: %v", err)
	}
}

func TestIssueRefusesBadInput(t *testing.T) {
	for name, edit := range map[string]func(*Request){
		"no reason":         func(r *Request) { r.Reason = "  " },
		"control in reason": func(r *Request) { r.Reason = "x\nFAKE LOG LINE" },
		"slash in user":     func(r *Request) { r.User = "a/b" },
		"zero duration":     func(r *Request) { r.Duration = 0 },
		"no bastion key":    func(r *Request) { r.BastionKey = nil },
	} {
		f := newFixture(t)
		edit(&f.req)
		if _, _, err := Issue(f.req, f.userCA, f.hopCA, now, 0, rand.Reader); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOfRefusesAPlainCertificateAndAMismatchedGrant(t *testing.T) {
	f := newFixture(t)
	cert, _, err := Issue(f.req, f.userCA, f.hopCA, now, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain := *cert
	plain.Extensions = map[string]string{}
	if _, err := Of(&plain); !errors.Is(err, ErrNotGlass) {
		t.Fatalf("plain: %v", err)
	}
	other := *cert
	other.ValidPrincipals = []string{"dba@db-2"}
	if _, err := Of(&other); !errors.Is(err, ErrBadGrant) {
		t.Fatalf("other principal: %v", err)
	}
}

func TestParseIsStrict(t *testing.T) {
	f := newFixture(t)
	_, g, err := Issue(f.req, f.userCA, f.hopCA, now, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := mustJSON(t, g)
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(good, `"user"`, `"extra":1,"user"`, 1),
		"trailing":      good + `{}`,
		"empty":         ``,
		"not json":      `x`,
	} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrBadGrant) {
			t.Errorf("%s: %v", name, err)
		}
	}
	long := g
	long.NotAfter = long.Issued.Add(2 * time.Hour)
	if _, err := Parse([]byte(mustJSON(t, long))); !errors.Is(err, ErrBadGrant) {
		t.Errorf("2h grant: %v", err)
	}
}

func TestRecordAppendsAndReadsBack(t *testing.T) {
	dir := t.TempDir()
	if rs, err := ReadRecords(dir); err != nil || len(rs) != 0 {
		t.Fatalf("no file: %v %v", rs, err)
	}
	f := newFixture(t)
	for i := 0; i < 2; i++ {
		cert, g, err := Issue(f.req, f.userCA, f.hopCA, now, 0, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := AppendRecord(dir, NewRecord(cert, g, "root")); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := ReadRecords(dir)
	if err != nil || len(rs) != 2 || rs[0].Serial == rs[1].Serial || rs[0].User != "alice" || rs[0].HopCert != "" {
		t.Fatalf("records %+v %v", rs, err)
	}
	if n, err := Audited(dir); err != nil || n != 0 {
		t.Fatalf("audited before any: %d %v", n, err)
	}
	if err := SetAudited(dir, 2); err != nil {
		t.Fatal(err)
	}
	if n, err := Audited(dir); err != nil || n != 2 || rs[0].Operator != "root" {
		t.Fatalf("audited: %d %v, operator %q", n, err, rs[0].Operator)
	}
	if _, err := parseRecords([]byte(`{"user":"x"`)); err == nil {
		t.Fatal("a torn line reads")
	}
}

func TestVerifyTakesOnlyATrustedCertificateForThisBastionUsedInItsValidity(t *testing.T) {
	f := newFixture(t)
	cert, _, err := Issue(f.req, f.userCA, f.hopCA, now, time.Minute, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	line := string(ssh.MarshalAuthorizedKey(cert))
	previous := signer(t).PublicKey() // a rotation's other key
	trusted := []ssh.PublicKey{previous, f.userCA.PublicKey()}
	bastionKeys := []ssh.PublicKey{signer(t).PublicKey(), f.bastion.PublicKey()}
	at := now.Add(10 * time.Minute)
	got, g, err := Verify(line, trusted, "bastion-1", bastionKeys, at)
	if err != nil || got.Serial != cert.Serial || g.User != "alice" {
		t.Fatalf("the genuine certificate, the signing key second in the list: %v", err)
	}
	forged := newFixture(t) // the same request signed by another user CA
	forged.req = f.req
	other, _, err := Issue(forged.req, forged.userCA, f.hopCA, now, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain := *cert
	plain.Extensions = map[string]string{}
	for name, tc := range map[string]struct {
		line    string
		bastion string
		keys    []ssh.PublicKey
		at      time.Time
		want    error
	}{
		"another user CA":                  {string(ssh.MarshalAuthorizedKey(other)), "bastion-1", bastionKeys, at, ErrUntrusted},
		"a grant certificate, not a glass": {string(ssh.MarshalAuthorizedKey(&plain)), "bastion-1", bastionKeys, at, ErrUntrusted},
		"another bastion":                  {line, "bastion-2", bastionKeys, at, ErrWrongHost},
		"hop for another key":              {line, "bastion-1", []ssh.PublicKey{previous}, at, ErrWrongHost},
		"started after its end":            {line, "bastion-1", bastionKeys, now.Add(30 * time.Minute), ErrUntrusted},
		"started before it was valid":      {line, "bastion-1", bastionKeys, now.Add(-2 * time.Minute), ErrUntrusted},
		"a plain key":                      {string(ssh.MarshalAuthorizedKey(f.person.PublicKey())), "bastion-1", bastionKeys, at, ErrUntrusted},
		"not a key":                        {"ssh-ed25519 AAAA", "bastion-1", bastionKeys, at, ErrUntrusted},
		"two lines":                        {line + line, "bastion-1", bastionKeys, at, ErrUntrusted},
	} {
		if _, _, err := Verify(tc.line, trusted, tc.bastion, tc.keys, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if _, _, err := Verify(line, nil, "bastion-1", bastionKeys, at); !errors.Is(err, ErrUntrusted) {
		t.Errorf("no trusted keys: %v", err)
	}
	if _, _, err := Verify(line, trusted, "bastion-1", bastionKeys, now.Add(30*time.Minute-time.Second)); err != nil {
		t.Errorf("started in its last second: %v", err)
	}
}
