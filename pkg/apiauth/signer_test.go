package apiauth

import (
	"bytes"
	"crypto/elliptic"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		key        func(t *testing.T) ssh.Signer
		wantFormat string
	}{
		{
			name:       "ed25519 key file",
			key:        func(t *testing.T) ssh.Signer { return mustLoad(t, writeKeyFile(t, ed25519Key(), "")) },
			wantFormat: ssh.KeyAlgoED25519,
		},
		{
			name:       "ecdsa p256 key",
			key:        func(t *testing.T) ssh.Signer { return signerFor(t, newECDSAKey(t, elliptic.P256())) },
			wantFormat: ssh.KeyAlgoECDSA256,
		},
		{
			name: "ecdsa p384 key file",
			key: func(t *testing.T) ssh.Signer {
				return mustLoad(t, writeKeyFile(t, newECDSAKey(t, elliptic.P384()), ""))
			},
			wantFormat: ssh.KeyAlgoECDSA384,
		},
		{
			name:       "rsa key file signs with rsa-sha2-512",
			key:        func(t *testing.T) ssh.Signer { return mustLoad(t, writeKeyFile(t, rsaKey(), "")) },
			wantFormat: ssh.KeyAlgoRSASHA512,
		},
		{
			name:       "rsa key limited to rsa-sha2-256 signs with it",
			key:        rsaSHA256Only,
			wantFormat: ssh.KeyAlgoRSASHA256,
		},
		{
			name:       "ed25519 key in ssh-agent",
			key:        func(t *testing.T) ssh.Signer { return agentSigner(t, ed25519Key()) },
			wantFormat: ssh.KeyAlgoED25519,
		},
		{
			name:       "rsa key in ssh-agent signs with rsa-sha2-512",
			key:        func(t *testing.T) ssh.Signer { return agentSigner(t, rsaKey()) },
			wantFormat: ssh.KeyAlgoRSASHA512,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key(t)
			s := &Signer{Principal: "user:alice", Key: key, Clock: clockAt(testNow)}
			v := &Verifier{Keys: keysOf("user:alice", key.PublicKey()), Nonces: &MemoryNonces{}, Clock: clockAt(testNow)}
			body := []byte(`{"role":"admin"}`)
			r := httptest.NewRequest(http.MethodPost, "https://ca.example/v1/requests?role=admin", bytes.NewReader(body))
			if err := s.Sign(r, body); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			p, err := parseHeader(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatalf("parsing own header: %v", err)
			}
			if p.sig.Format != tt.wantFormat {
				t.Errorf("signature format = %q, want %q", p.sig.Format, tt.wantFormat)
			}
			got, err := v.Verify(t.Context(), r, body)
			if err != nil || got != "user:alice" {
				t.Fatalf("Verify = %q, %v; want user:alice, nil", got, err)
			}
		})
	}
}

func TestSignVerifyOverHTTP(t *testing.T) {
	key := signerFor(t, ed25519Key())
	v := &Verifier{Keys: keysOf("bastion:edge-1", key.PublicKey()), Nonces: &MemoryNonces{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		principal, err := v.Verify(r.Context(), r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, principal)
	}))
	defer srv.Close()

	s := &Signer{Principal: "bastion:edge-1", Key: key}
	for _, path := range []string{"/v1/hops", "/v1/grants/a%2Fb?role=db%20admin&x=1", "/v1/sessions?"} {
		body := []byte("payload for " + path)
		req, err := http.NewRequest(http.MethodPut, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Sign(req, body); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != "bastion:edge-1" {
			t.Errorf("%s: status %d, body %q; want 200 bastion:edge-1", path, resp.StatusCode, got)
		}
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	key := signerFor(t, ed25519Key())
	tests := []struct {
		name   string
		signer *Signer
	}{
		{"invalid principal", &Signer{Principal: "alice", Key: key}},
		{"uppercase principal name", &Signer{Principal: "user:Alice", Key: key}},
		{"no key", &Signer{Principal: "user:alice"}},
		{"rsa key without sha2 support", &Signer{Principal: "user:alice", Key: plainSigner{signerFor(t, rsaKey())}}},
		{"failing random source", &Signer{Principal: "user:alice", Key: key, Rand: strings.NewReader("short")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://ca.example/v1/me", nil)
			if err := tt.signer.Sign(r, nil); err == nil {
				t.Fatal("Sign succeeded, want error")
			}
			if h := r.Header.Get("Authorization"); h != "" {
				t.Errorf("Authorization set to %q after failed Sign", h)
			}
		})
	}
}

func TestNonceIsRandomAndLongEnough(t *testing.T) {
	s := &Signer{Principal: "user:alice", Key: signerFor(t, ed25519Key())}
	seen := map[string]bool{}
	for range 100 {
		r := httptest.NewRequest(http.MethodGet, "https://ca.example/v1/me", nil)
		if err := s.Sign(r, nil); err != nil {
			t.Fatal(err)
		}
		p, err := parseHeader(r.Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.nonce) < 22 || seen[p.nonce] {
			t.Fatalf("nonce %q too short or repeated", p.nonce)
		}
		seen[p.nonce] = true
	}
}

// plainSigner hides every interface but ssh.Signer.
type plainSigner struct{ ssh.Signer }

func keysOf(principal string, keys ...ssh.PublicKey) KeysFunc {
	return func(p string) []ssh.PublicKey {
		if p == principal {
			return keys
		}
		return nil
	}
}

func mustLoad(t *testing.T, path string) ssh.Signer {
	t.Helper()
	s, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rsaSHA256Only(t *testing.T) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerWithAlgorithms(signerFor(t, rsaKey()).(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA256})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func agentSigner(t *testing.T, key any) ssh.Signer {
	t.Helper()
	socket := startAgent(t, ed25519Key(), rsaKey())
	signers, closeAgent, err := AgentSigners(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAgent() })
	want := signerFor(t, key).PublicKey()
	s, err := PickSigner(signers, []ssh.PublicKey{want})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPickSigner(t *testing.T) {
	a, b := signerFor(t, ed25519Key()), signerFor(t, otherEd25519Key())
	got, err := PickSigner([]ssh.Signer{a, b}, []ssh.PublicKey{b.PublicKey()})
	if err != nil || got != b {
		t.Errorf("PickSigner picked %v, %v; want the second signer", got, err)
	}
	if _, err := PickSigner([]ssh.Signer{a}, []ssh.PublicKey{b.PublicKey()}); !errors.Is(err, ErrNoMatchingKey) {
		t.Errorf("PickSigner with no match: %v, want ErrNoMatchingKey", err)
	}
	if _, err := PickSigner(nil, nil); !errors.Is(err, ErrNoMatchingKey) {
		t.Errorf("PickSigner with nothing: %v, want ErrNoMatchingKey", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	t.Run("encrypted key refused with advice to use the agent", func(t *testing.T) {
		path := writeKeyFile(t, ed25519Key(), "secret")
		_, err := LoadKeyFile(path)
		if !errors.Is(err, ErrEncryptedKey) || !strings.Contains(err.Error(), "ssh-agent") {
			t.Errorf("LoadKeyFile(encrypted) = %v, want ErrEncryptedKey mentioning ssh-agent", err)
		}
	})
	t.Run("missing file refused", func(t *testing.T) {
		if _, err := LoadKeyFile(t.TempDir() + "/nope"); err == nil {
			t.Error("LoadKeyFile(missing) succeeded")
		}
	})
	t.Run("public key file refused", func(t *testing.T) {
		path := t.TempDir() + "/id.pub"
		pub := ssh.MarshalAuthorizedKey(signerFor(t, ed25519Key()).PublicKey())
		if err := os.WriteFile(path, pub, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(path); err == nil {
			t.Error("LoadKeyFile(public key) succeeded")
		}
	})
}

func TestAgentSignersWithoutSocketFails(t *testing.T) {
	if _, _, err := AgentSigners(""); err == nil {
		t.Error("AgentSigners(\"\") succeeded")
	}
	if _, _, err := AgentSigners(t.TempDir() + "/none.sock"); err == nil {
		t.Error("AgentSigners(missing socket) succeeded")
	}
}
