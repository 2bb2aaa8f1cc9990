package bastion

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// fakeCA is a ControlPlane that accepts the code "123456" once per user
// and records the sessions it is asked to start, refusing them all (the
// tests here end at the login).
type fakeCA struct {
	mu       sync.Mutex
	used     map[string]bool
	started  []wire.SessionStart
	reported []wire.BastionRefusals
	checkErr error // what CheckSession answers
	checks   int
}

var errRefused = errors.New("refused by the fake CA")

func (f *fakeCA) CheckMFA(_ context.Context, user, code, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code != "123456" || f.used[user] {
		return errRefused
	}
	if f.used == nil {
		f.used = map[string]bool{}
	}
	f.used[user] = true
	return nil
}

func (f *fakeCA) CheckSession(context.Context, wire.SessionCheck) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	return f.checkErr
}

func (f *fakeCA) StartSession(_ context.Context, in wire.SessionStart) (*wire.SessionGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, in)
	return nil, errRefused
}

func (f *fakeCA) HopCertificate(context.Context, string, string, string) (*wire.Certificate, error) {
	return nil, errRefused
}

func (f *fakeCA) Heartbeat(context.Context, []string) (map[string]wire.SessionStatus, error) {
	return nil, nil
}
func (f *fakeCA) EndSession(context.Context, string, wire.SessionEnd) error    { return nil }
func (f *fakeCA) UploadRecording(context.Context, string, io.ReadSeeker) error { return nil }

func (f *fakeCA) ReportBreakGlassSession(context.Context, wire.BreakGlassSession) error {
	return errRefused
}

func (f *fakeCA) ReportRefusals(_ context.Context, r wire.BastionRefusals) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reported = append(f.reported, r)
	return nil
}

// counts sums the anonymous refusals reported so far by source and reason.
func (f *fakeCA) counts() map[[2]string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[[2]string]int64{}
	for _, r := range f.reported {
		for _, c := range r.Counts {
			out[[2]string{c.Source, c.Reason}] += c.Count
		}
	}
	return out
}

func newKey(t testing.TB) ssh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type testBastion struct {
	addr   string
	ca     *fakeCA
	userCA ssh.Signer
	hopCA  ssh.Signer
	hostCA ssh.Signer
}

func startBastion(t *testing.T) *testBastion {
	return startBastionWith(t, func(*Config) {})
}

// startBastionWith starts a bastion on a random loopback port with the
// test's settings applied to its Config.
func startBastionWith(t *testing.T, edit func(*Config)) *testBastion {
	tb := &testBastion{ca: &fakeCA{}, userCA: newKey(t), hopCA: newKey(t), hostCA: newKey(t)}
	spool, err := recording.OpenSpool(t.TempDir() + "/spool")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "b1", HostKey: newKey(t), UserCA: tb.userCA.PublicKey(), HostCA: tb.hostCA.PublicKey(),
		CA: tb.ca, Spool: spool, HandshakeTimeout: 5 * time.Second}
	edit(&cfg)
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	tb.addr = ln.Addr().String()
	return tb
}

// cert signs a grant certificate for key with ca, valid now, with a
// terminal.
func cert(t *testing.T, ca ssh.Signer, key ssh.Signer, user string, principals ...string) ssh.Signer {
	return signGrant(t, ca, key, sshcert.UserSpec{Serial: 7, KeyID: user + "/req-aaaaaaaaaaaaaaaa",
		Principals: principals, PermitPTY: true, ValidAfter: time.Now().Add(-time.Minute), ValidBefore: time.Now().Add(time.Hour)})
}

// signGrant signs the grant certificate spec describes for key with ca.
func signGrant(t *testing.T, ca ssh.Signer, key ssh.Signer, spec sshcert.UserSpec) ssh.Signer {
	t.Helper()
	c, err := sshcert.UserCertificate(key.PublicKey(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := sshcert.Sign(c, ca, rand.Reader); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(c, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func totpAnswer(code string) ssh.AuthMethod {
	return ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
		out := make([]string, len(questions))
		for i := range out {
			out[i] = code
		}
		return out, nil
	})
}

func dial(tb *testBastion, login string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", tb.addr, &ssh.ClientConfig{User: login, Auth: auth, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

func TestLoginNeedsTheCertificateThenTOTP(t *testing.T) {
	tb := startBastion(t)
	alice := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1")
	tests := []struct {
		name  string
		login string
		auth  []ssh.AuthMethod
	}{
		{"no method at all (none)", "db-1", nil},
		{"the certificate alone", "db-1", []ssh.AuthMethod{ssh.PublicKeys(alice)}},
		{"a code alone", "db-1", []ssh.AuthMethod{totpAnswer("123456")}},
		{"a wrong code", "db-1", []ssh.AuthMethod{ssh.PublicKeys(alice), totpAnswer("654321")}},
		{"a plain key", "db-1", []ssh.AuthMethod{ssh.PublicKeys(newKey(t)), totpAnswer("123456")}},
		{"a certificate from another CA", "db-1", []ssh.AuthMethod{ssh.PublicKeys(cert(t, tb.hopCA, newKey(t), "alice", "admin@db-1")), totpAnswer("123456")}},
		{"a resource the certificate does not name", "db-2", []ssh.AuthMethod{ssh.PublicKeys(alice), totpAnswer("123456")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := dial(tb, tc.login, tc.auth...); err == nil {
				c.Close()
				t.Fatal("logged in")
			}
		})
	}
	c, err := dial(tb, "db-1", ssh.PublicKeys(alice), totpAnswer("123456"))
	if err != nil {
		t.Fatalf("both factors: %v", err)
	}
	c.Close()
}

// meta is the connection metadata the callbacks see.
type meta struct{ user string }

func (m meta) User() string          { return m.user }
func (m meta) SessionID() []byte     { return []byte("session") }
func (m meta) ClientVersion() []byte { return []byte("SSH-2.0-test") }
func (m meta) ServerVersion() []byte { return []byte("SSH-2.0-Lockbox") }
func (m meta) RemoteAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555} }
func (m meta) LocalAddr() net.Addr   { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222} }

func answer(code string) ssh.KeyboardInteractiveChallenge {
	return func(_, _ string, q []string, _ []bool) ([]string, error) { return []string{code}, nil }
}

// secondStep runs the verified-key callback for key as login and returns
// the TOTP step it asks for.
func secondStep(t *testing.T, s *Server, login string, key ssh.PublicKey) func(ssh.ConnMetadata, ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
	t.Helper()
	perms, err := s.verifiedKey(nil, meta{login}, key)
	var partial *ssh.PartialSuccessError
	if perms != nil || !errors.As(err, &partial) || partial.Next.KeyboardInteractiveCallback == nil {
		t.Fatalf("verified key: %v %v", perms, err)
	}
	return partial.Next.KeyboardInteractiveCallback
}

func newServer(t *testing.T) (*Server, *testBastion) {
	tb := &testBastion{ca: &fakeCA{}, userCA: newKey(t), hopCA: newKey(t), hostCA: newKey(t)}
	spool, err := recording.OpenSpool(t.TempDir() + "/spool")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Name: "b1", HostKey: newKey(t), UserCA: tb.userCA.PublicKey(), HostCA: tb.hostCA.PublicKey(), CA: tb.ca, Spool: spool})
	if err != nil {
		t.Fatal(err)
	}
	return s, tb
}

// The identity is the one whose key signed, never a key merely offered
// before it (CVE-2024-45337): offering only asks, and remembers nothing.
func TestIdentityComesFromTheVerifiedKey(t *testing.T) {
	s, tb := newServer(t)
	victim := cert(t, tb.userCA, newKey(t), "victim", "admin@db-1").PublicKey()
	mallory := cert(t, tb.userCA, newKey(t), "mallory", "admin@db-1").PublicKey()
	if s.offeredKey(nil, meta{"db-1"}, victim) != nil {
		t.Fatal("the victim's certificate is a valid offer")
	}
	step := secondStep(t, s, "db-1", mallory)
	perms, err := step(meta{"db-1"}, answer("123456"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := identityOf(perms); !ok || id.User != "mallory" {
		t.Fatalf("identity %+v", id)
	}
}

// A user name that changes between the two steps is refused.
func TestUserNameCannotChangeBetweenSteps(t *testing.T) {
	s, tb := newServer(t)
	alice := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1", "admin@db-2").PublicKey()
	step := secondStep(t, s, "db-1", alice)
	if _, err := step(meta{"db-2"}, answer("123456")); err == nil {
		t.Fatal("the second step accepted another user name")
	}
}

// Certificates the checker must refuse, built by hand where sshcert
// would not build them.
func TestHandMadeBadCertificatesAreRefused(t *testing.T) {
	s, tb := newServer(t)
	sign := func(c *ssh.Certificate, ca ssh.Signer) ssh.PublicKey {
		if err := c.SignCert(rand.Reader, ca); err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := func() *ssh.Certificate {
		return &ssh.Certificate{Key: newKey(t).PublicKey(), Serial: 9, CertType: ssh.UserCert, KeyId: "alice/req-aaaaaaaaaaaaaaaa",
			ValidPrincipals: []string{"admin@db-1"}, ValidAfter: uint64(time.Now().Add(-time.Minute).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix())}
	}
	wildcard := base()
	wildcard.ValidPrincipals = []string{"*"}
	empty := base()
	empty.ValidPrincipals = nil
	host := base()
	host.CertType = ssh.HostCert
	critical := base()
	critical.CriticalOptions = map[string]string{"verify-required": ""}
	forever := base()
	forever.ValidBefore = ssh.CertTimeInfinity
	for name, key := range map[string]ssh.PublicKey{
		"wildcard principal": sign(wildcard, tb.userCA), "empty principals": sign(empty, tb.userCA),
		"host certificate": sign(host, tb.userCA), "unknown critical option": sign(critical, tb.userCA),
		"infinite validity": sign(forever, tb.userCA), "signed by the host CA": sign(base(), tb.hostCA),
	} {
		t.Run(name, func(t *testing.T) {
			for _, login := range []string{"db-1", "admin@db-1"} {
				if _, _, err := s.checkCert(key, login, meta{}.RemoteAddr()); err == nil {
					t.Fatalf("accepted as %s", login)
				}
			}
		})
	}
}

func openSpool(t *testing.T, dir string) *recording.Spool {
	t.Helper()
	s, err := recording.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
