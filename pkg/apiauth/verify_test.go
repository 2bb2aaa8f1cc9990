package apiauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// fixture: alice and bob share one registered key (so a swapped principal
// still finds a key), carol has another.
type fixture struct {
	aliceKey, carolKey ssh.Signer
	nonces             *MemoryNonces
	verifier           *Verifier
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{
		aliceKey: signerFor(t, ed25519Key()),
		carolKey: signerFor(t, otherEd25519Key()),
		nonces:   &MemoryNonces{Clock: clockAt(testNow)},
	}
	registered := map[string][]ssh.PublicKey{
		"user:alice": {f.aliceKey.PublicKey()},
		"user:bob":   {f.aliceKey.PublicKey()},
		"user:carol": {f.carolKey.PublicKey()},
	}
	f.verifier = &Verifier{
		Keys:   KeysFunc(func(p string) []ssh.PublicKey { return registered[p] }),
		Nonces: f.nonces,
		Clock:  clockAt(testNow),
	}
	return f
}

const testBody = `{"resource":"db-1","role":"admin"}`

// signed returns a POST request signed at testNow by principal with key.
func signed(t *testing.T, principal string, key ssh.Signer) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://ca.example/v1/requests?ttl=1h", bytes.NewReader([]byte(testBody)))
	s := &Signer{Principal: principal, Key: key, Clock: clockAt(testNow)}
	if err := s.Sign(r, []byte(testBody)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyRefuses(t *testing.T) {
	tests := []struct {
		name      string
		principal string                                     // default user:alice
		key       func(f *fixture) ssh.Signer                // default alice's key
		tamper    func(t *testing.T, r *http.Request) []byte // returns the body seen by Verify
		want      error
	}{
		{
			name:   "missing header",
			tamper: func(t *testing.T, r *http.Request) []byte { r.Header.Del("Authorization"); return []byte(testBody) },
			want:   ErrMissing,
		},
		{
			name: "two Authorization headers",
			tamper: func(t *testing.T, r *http.Request) []byte {
				r.Header.Add("Authorization", r.Header.Get("Authorization"))
				return []byte(testBody)
			},
			want: ErrMalformed,
		},
		{name: "unknown principal", principal: "user:mallory", want: ErrUnknownKey},
		{
			name: "key not registered for principal",
			key:  func(f *fixture) ssh.Signer { return f.carolKey },
			want: ErrUnknownKey,
		},
		{
			name:   "body changed",
			tamper: func(t *testing.T, r *http.Request) []byte { return []byte(`{"resource":"db-1","role":"root"}`) },
			want:   ErrBadSignature,
		},
		{
			name:   "body dropped",
			tamper: func(t *testing.T, r *http.Request) []byte { return nil },
			want:   ErrBadSignature,
		},
		{
			name:   "method changed",
			tamper: func(t *testing.T, r *http.Request) []byte { r.Method = http.MethodDelete; return []byte(testBody) },
			want:   ErrBadSignature,
		},
		{
			name:   "path changed",
			tamper: setURL("/v1/approvals?ttl=1h"),
			want:   ErrBadSignature,
		},
		{
			name:   "query changed",
			tamper: setURL("/v1/requests?ttl=24h"),
			want:   ErrBadSignature,
		},
		{
			name:   "query dropped",
			tamper: setURL("/v1/requests"),
			want:   ErrBadSignature,
		},
		{
			name:   "host changed",
			tamper: func(t *testing.T, r *http.Request) []byte { r.Host = "ca.evil.example"; return []byte(testBody) },
			want:   ErrBadSignature,
		},
		{
			name:   "principal swapped to another holder of the same key",
			tamper: editHeader(func(p *authParams) { p.principal = "user:bob" }),
			want:   ErrBadSignature,
		},
		{
			name:   "timestamp changed within window",
			tamper: editHeader(func(p *authParams) { p.ts++ }),
			want:   ErrBadSignature,
		},
		{
			name:   "nonce changed",
			tamper: editHeader(func(p *authParams) { p.nonce = "AAAAAAAAAAAAAAAAAAAAAA" }),
			want:   ErrBadSignature,
		},
		{
			name:   "signature format not matching key type",
			tamper: editHeader(func(p *authParams) { p.sig.Format = ssh.KeyAlgoECDSA256 }),
			want:   ErrBadSignature,
		},
		{
			name:   "trailing data after signature",
			tamper: editHeader(func(p *authParams) { p.sig.Rest = []byte{1} }),
			want:   ErrBadSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			principal, key := "user:alice", f.aliceKey
			if tt.principal != "" {
				principal = tt.principal
			}
			if tt.key != nil {
				key = tt.key(f)
			}
			r := signed(t, principal, key)
			body := []byte(testBody)
			if tt.tamper != nil {
				body = tt.tamper(t, r)
			}
			got, err := f.verifier.Verify(t.Context(), r, body)
			if !errors.Is(err, tt.want) || got != "" {
				t.Errorf("Verify = %q, %v; want \"\", %v", got, err, tt.want)
			}
			if n := f.nonces.Len(); n != 0 {
				t.Errorf("%d nonces recorded by a refused request", n)
			}
		})
	}
}

func setURL(requestURI string) func(t *testing.T, r *http.Request) []byte {
	return func(t *testing.T, r *http.Request) []byte {
		u, err := url.ParseRequestURI(requestURI)
		if err != nil {
			t.Fatal(err)
		}
		r.URL, r.RequestURI = u, requestURI
		return []byte(testBody)
	}
}

func editHeader(edit func(p *authParams)) func(t *testing.T, r *http.Request) []byte {
	return func(t *testing.T, r *http.Request) []byte {
		rewriteHeader(t, r, edit)
		return []byte(testBody)
	}
}

func TestVerifyTimestampWindow(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		skew   time.Duration // verifier clock minus signing time
		want   error
	}{
		{"signed just inside the window in the past accepted", 0, 60 * time.Second, nil},
		{"signed just outside the window in the past refused", 0, 61 * time.Second, ErrStale},
		{"signed just inside the window in the future accepted", 0, -60 * time.Second, nil},
		{"signed just outside the window in the future refused", 0, -61 * time.Second, ErrStale},
		{"one nanosecond past the window refused", 0, 60*time.Second + 1, ErrStale},
		{"custom window honoured", 5 * time.Second, 6 * time.Second, ErrStale},
		{"custom window inside accepted", 5 * time.Second, -5 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.verifier.Window = tt.window
			f.verifier.Clock = clockAt(testNow.Add(tt.skew))
			_, err := f.verifier.Verify(t.Context(), signed(t, "user:alice", f.aliceKey), []byte(testBody))
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRefusesReplay(t *testing.T) {
	f := newFixture(t)
	r := signed(t, "user:alice", f.aliceKey)
	if _, err := f.verifier.Verify(t.Context(), r, []byte(testBody)); err != nil {
		t.Fatalf("first Verify: %v", err)
	}
	if _, err := f.verifier.Verify(t.Context(), r, []byte(testBody)); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed Verify = %v, want ErrReplay", err)
	}
}

func TestBadSignatureDoesNotBurnNonce(t *testing.T) {
	f := newFixture(t)
	r := signed(t, "user:alice", f.aliceKey)
	if _, err := f.verifier.Verify(t.Context(), r, []byte("forged body")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged Verify = %v, want ErrBadSignature", err)
	}
	if got, err := f.verifier.Verify(t.Context(), r, []byte(testBody)); err != nil || got != "user:alice" {
		t.Fatalf("genuine Verify after forgery = %q, %v; want user:alice, nil", got, err)
	}
}

func TestSameNonceForDifferentPrincipalsIsNoReplay(t *testing.T) {
	f := newFixture(t)
	zero := bytes.NewReader(make([]byte, 64))
	for _, tc := range []struct {
		principal string
		key       ssh.Signer
	}{{"user:alice", f.aliceKey}, {"user:carol", f.carolKey}} {
		zero.Seek(0, 0)
		r := httptest.NewRequest(http.MethodGet, "https://ca.example/v1/me", nil)
		s := &Signer{Principal: tc.principal, Key: tc.key, Clock: clockAt(testNow), Rand: zero}
		if err := s.Sign(r, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.verifier.Verify(t.Context(), r, nil); err != nil {
			t.Errorf("%s: Verify = %v", tc.principal, err)
		}
	}
}

func TestRSASignatureAlgorithms(t *testing.T) {
	tests := []struct {
		alg  string
		want error
	}{
		{ssh.KeyAlgoRSASHA512, nil},
		{ssh.KeyAlgoRSASHA256, nil},
		{ssh.KeyAlgoRSA, ErrBadSignature}, // SHA-1
	}
	key := signerFor(t, rsaKey()).(ssh.AlgorithmSigner)
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			v := &Verifier{Keys: keysOf("user:alice", key.PublicKey()), Nonces: &MemoryNonces{}, Clock: clockAt(testNow)}
			r := httptest.NewRequest(http.MethodGet, "https://ca.example/v1/me", nil)
			p := &authParams{
				principal: "user:alice",
				keyFP:     ssh.FingerprintSHA256(key.PublicKey()),
				ts:        testNow.Unix(),
				nonce:     "bm9uY2Utbm9uY2Utbm9uY2U",
			}
			sig, err := key.SignWithAlgorithm(nil, signedMessage(p, r, sha256.Sum256(nil), notStreamed), tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			p.sig = sig
			r.Header.Set("Authorization", p.String())
			if _, err := v.Verify(t.Context(), r, nil); !errors.Is(err, tt.want) {
				t.Errorf("Verify(%s signature) = %v, want %v", tt.alg, err, tt.want)
			}
		})
	}
}

type failingNonces struct{}

func (failingNonces) Use(context.Context, string, string, time.Time) error {
	return errors.New("database unreachable")
}

func TestVerifyFailsClosed(t *testing.T) {
	f := newFixture(t)
	t.Run("nonce store error refuses", func(t *testing.T) {
		v := *f.verifier
		v.Nonces = failingNonces{}
		got, err := v.Verify(t.Context(), signed(t, "user:alice", f.aliceKey), []byte(testBody))
		if err == nil || errors.Is(err, ErrReplay) || got != "" {
			t.Errorf("Verify = %q, %v; want internal error", got, err)
		}
	})
	t.Run("unconfigured verifier refuses", func(t *testing.T) {
		v := &Verifier{}
		if _, err := v.Verify(t.Context(), signed(t, "user:alice", f.aliceKey), []byte(testBody)); err == nil {
			t.Error("Verify with no Keys or Nonces succeeded")
		}
	})
}
