package apiauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

var testNow = time.Unix(1_700_000_000, 0)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// Test keys are made once per run: RSA generation is slow under -race.
var (
	ed25519Key = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		must(err)
		return k
	})
	otherEd25519Key = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		must(err)
		return k
	})
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		return k
	})
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func newECDSAKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signerFor(t testing.TB, key crypto.PrivateKey) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeKeyFile writes key as an OpenSSH private key file, encrypted when
// passphrase is not empty, and returns its path.
func writeKeyFile(t *testing.T, key crypto.PrivateKey, passphrase string) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(key, "test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_test")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startAgent serves an in-memory ssh-agent holding keys on a unix socket and
// returns the socket path. Everything stops when the test ends.
func startAgent(t *testing.T, keys ...crypto.PrivateKey) string {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	// A short directory: unix socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "lbagent")
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { serveAgent(l, keyring, &wg) })
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return socket
}

func serveAgent(l net.Listener, keyring agent.Agent, wg *sync.WaitGroup) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer conn.Close()
			agent.ServeAgent(keyring, conn)
		})
	}
}

// rewriteHeader parses r's Authorization header, lets edit change it, and
// sets it back.
func rewriteHeader(t *testing.T, r *http.Request, edit func(p *authParams)) {
	t.Helper()
	p, err := parseHeader(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	edit(p)
	r.Header.Set("Authorization", p.String())
}

// withParam returns header with parameter name's value replaced by value.
func withParam(header, name, value string) string {
	fields := headerFields(header)
	for i, f := range fields {
		if strings.HasPrefix(f, name+"=") {
			fields[i] = name + "=" + value
		}
	}
	return scheme + " " + strings.Join(fields, ",")
}

// withoutParam returns header with parameter name removed.
func withoutParam(header, name string) string {
	var kept []string
	for _, f := range headerFields(header) {
		if !strings.HasPrefix(f, name+"=") {
			kept = append(kept, f)
		}
	}
	return scheme + " " + strings.Join(kept, ",")
}

func headerFields(header string) []string {
	return strings.Split(strings.TrimPrefix(header, scheme+" "), ",")
}
