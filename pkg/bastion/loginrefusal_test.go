package bastion

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// logBuffer is a log sink tests can read while the server writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// certWindow signs a grant certificate valid from after to before.
func certWindow(t *testing.T, ca, key ssh.Signer, user string, after, before time.Time, principals ...string) ssh.Signer {
	return signGrant(t, ca, key, sshcert.UserSpec{Serial: 7, KeyID: user + "/req-aaaaaaaaaaaaaaaa",
		Principals: principals, ValidAfter: after, ValidBefore: before})
}

// dialForBanners logs in and returns the banners the bastion sent.
func dialForBanners(tb *testBastion, login string, auth ...ssh.AuthMethod) ([]string, error) {
	var mu sync.Mutex
	var banners []string
	c, err := ssh.Dial("tcp", tb.addr, &ssh.ClientConfig{User: login, Auth: auth, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
		BannerCallback: func(m string) error { mu.Lock(); banners = append(banners, m); mu.Unlock(); return nil }})
	if err == nil {
		c.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	return banners, err
}

func (f *fakeCA) people() []wire.BastionRefusal {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.BastionRefusal
	for _, r := range f.reported {
		out = append(out, r.Refusals...)
	}
	return out
}

// A person whose own certificate (signed by the user CA, key proven) cannot
// be used is told why in a banner, and the refusal is logged with the key
// ID, serial, fingerprint, the person and the address, and reported for
// the audit log one by one. Anyone else hears only "not a Lockbox
// certificate", and is counted, not reported one by one.
func TestRefusalsSayWhyOnlyToTheHolderOfAGenuineCertificate(t *testing.T) {
	logs := &logBuffer{}
	tb := startBastionWith(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		c.RefusalReportInterval = 100 * time.Millisecond
	})
	now := time.Now()
	key := newKey(t)
	fp := ssh.FingerprintSHA256(key.PublicKey())
	person := []struct {
		name, login string
		signer      ssh.Signer
		told        string
	}{
		{"an expired certificate", "db-1", certWindow(t, tb.userCA, key, "alice", now.Add(-2*time.Hour), now.Add(-time.Hour).Truncate(time.Second), "admin@db-1"),
			"lockbox: this certificate ended at " + now.Add(-time.Hour).Truncate(time.Second).UTC().Format(time.RFC3339)},
		{"a resource the certificate does not name", "db-2", cert(t, tb.userCA, key, "alice", "admin@db-1"),
			"lockbox: this certificate is for db-1 (admin@db-1), not db-2"},
	}
	for i, tc := range person {
		t.Run(tc.name, func(t *testing.T) {
			banners, err := dialForBanners(tb, tc.login, ssh.PublicKeys(tc.signer), totpAnswer("123456"))
			if err == nil {
				t.Fatal("logged in")
			}
			if len(banners) != 1 || !strings.HasPrefix(banners[0], tc.told) {
				t.Fatalf("banners %q, want one starting %q", banners, tc.told)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(tb.ca.people()) <= i {
				if time.Now().After(deadline) {
					t.Fatal("the refusal was not reported to the CA")
				}
				time.Sleep(10 * time.Millisecond)
			}
			got := tb.ca.people()[i]
			if got.Kind != wire.RefusedLogin || got.User != "alice" || got.RequestID != "req-aaaaaaaaaaaaaaaa" || got.KeyID != "alice/req-aaaaaaaaaaaaaaaa" ||
				got.Serial != 7 || got.Fingerprint != fp || got.ClientAddr != "127.0.0.1" || got.Login != tc.login || !strings.HasPrefix("lockbox: "+got.Reason, tc.told) {
				t.Fatalf("reported %+v", got)
			}
			for _, want := range []string{"login refused", "user=alice", "key_id=alice/req-aaaaaaaaaaaaaaaa", "serial=7", "fingerprint=" + fp, "client=127.0.0.1:", "login=" + tc.login} {
				if !strings.Contains(logs.String(), want) {
					t.Fatalf("the log lacks %q:\n%s", want, logs.String())
				}
			}
		})
	}

	forgedKey := newKey(t)
	anonymous := []struct {
		name   string
		signer ssh.Signer
	}{
		{"a certificate forged with the hop CA", cert(t, tb.hopCA, forgedKey, "alice", "admin@db-1")},
		{"a plain key", newKey(t)},
	}
	for _, tc := range anonymous {
		t.Run(tc.name, func(t *testing.T) {
			banners, err := dialForBanners(tb, "db-1", ssh.PublicKeys(tc.signer), totpAnswer("123456"))
			if err == nil {
				t.Fatal("logged in")
			}
			if len(banners) != 1 || banners[0] != notLockbox {
				t.Fatalf("banners %q, want only %q", banners, notLockbox)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for tb.ca.counts()[[2]string{"127.0.0.1", causeNotLockbox}] != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("anonymous counts %v", tb.ca.counts())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(tb.ca.people()); n != len(person) {
		t.Fatalf("%d refusals reported one by one; want only the %d people's", n, len(person))
	}
	if want := "fingerprint=" + ssh.FingerprintSHA256(forgedKey.PublicKey()); !strings.Contains(logs.String(), want) {
		t.Fatalf("the forged certificate's refusal is not logged with %q:\n%s", want, logs.String())
	}
}

func TestExplainCertTellsThePersonWhatIsWrong(t *testing.T) {
	end := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &ssh.Certificate{ValidAfter: uint64(end.Add(-time.Hour).Unix()), ValidBefore: uint64(end.Unix()),
		ValidPrincipals: []string{"admin@db-1", "admin@db-2"}}
	client := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 4000}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{sshcert.ErrExpired, "this certificate ended at 2030-01-02T03:04:05Z"},
		{sshcert.ErrNotYetValid, "this certificate is valid only from 2030-01-02T02:04:05Z"},
		{sshcert.ErrPrincipalMismatch, "this certificate is for db-1 (admin@db-1), db-2 (admin@db-2), not web-1"},
		{sshcert.ErrSourceAddress, "this certificate may not be used from 192.0.2.9"},
		{sshcert.ErrUnknownCriticalOption, "this certificate cannot be used on this bastion"},
	} {
		if got := explainCert(tc.err, c, "web-1", client, end); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

// The code prompt names the person and says what code, so that OpenSSH's
// "(db-1@host) " before it does not read like a Unix account's password
// prompt.
func TestTheCodePromptNamesThePerson(t *testing.T) {
	tb := startBastion(t)
	alice := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1")
	var instruction, question string
	code := ssh.KeyboardInteractive(func(_, instr string, q []string, _ []bool) ([]string, error) {
		instruction = instr
		if len(q) == 1 {
			question = q[0]
		}
		return []string{"123456"}, nil
	})
	c, err := dial(tb, "db-1", ssh.PublicKeys(alice), code)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if question != "Lockbox code for alice from your authenticator app: " {
		t.Fatalf("prompt %q", question)
	}
	if instruction != "Lockbox: second factor for alice, admin on db-1 (grant req-aaaaaaaaaaaaaaaa)" {
		t.Fatalf("instruction %q", instruction)
	}
}
