package apiauth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func streamRequest(t *testing.T, s *Signer, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPut, "http://ca.example:7443/v1/sessions/sess-x/recording", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignStream(r, int64(len(body)), sha256.Sum256(body)); err != nil {
		t.Fatal(err)
	}
	return r
}

// A streamed call is authenticated from its headers alone, and its
// declaration (length and digest) is part of what is signed.
func TestStreamedCallIsVerifiedFromItsHeaders(t *testing.T) {
	key := signerFor(t, ed25519Key())
	s := &Signer{Principal: "bastion:edge-1", Key: key, Clock: clockAt(testNow)}
	newVerifier := func() *Verifier {
		return &Verifier{Keys: keysOf("bastion:edge-1", key.PublicKey()), Nonces: &MemoryNonces{}, Clock: clockAt(testNow)}
	}
	body := []byte("a recording")

	r := streamRequest(t, s, body)
	r.Body = io.NopCloser(readerThatFails{t}) // verifying must not read the body
	p, d, err := newVerifier().VerifyStream(t.Context(), r)
	if err != nil || p != "bastion:edge-1" || d.Length != int64(len(body)) || d.SHA256 != sha256.Sum256(body) {
		t.Fatalf("VerifyStream = %q, %+v, %v", p, d, err)
	}

	for _, tc := range []struct {
		name string
		edit func(r *http.Request)
		want error
	}{
		{"another length", func(r *http.Request) { r.ContentLength++ }, ErrBadSignature},
		{"another digest", func(r *http.Request) {
			other := streamRequest(t, s, []byte("another recording"))
			r.Header.Set(digestHeader, other.Header.Get(digestHeader))
		}, ErrBadSignature},
		{"no length (chunked)", func(r *http.Request) { r.ContentLength = -1 }, ErrMalformed},
		{"no digest", func(r *http.Request) { r.Header.Del(digestHeader) }, ErrMalformed},
		{"two digests", func(r *http.Request) { r.Header.Add(digestHeader, r.Header.Get(digestHeader)) }, ErrMalformed},
		{"another algorithm", func(r *http.Request) {
			r.Header.Set(digestHeader, strings.Replace(r.Header.Get(digestHeader), "sha-256", "sha-512", 1))
		}, ErrMalformed},
		{"no signature", func(r *http.Request) { r.Header.Del("Authorization") }, ErrMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := streamRequest(t, s, body)
			tc.edit(r)
			if _, _, err := newVerifier().VerifyStream(t.Context(), r); !errors.Is(err, tc.want) {
				t.Fatalf("VerifyStream = %v, want %v", err, tc.want)
			}
		})
	}

	// An ordinary signature is not a streamed one, nor the other way round.
	plain, _ := http.NewRequest(http.MethodPut, "http://ca.example:7443/v1/sessions/sess-x/recording", bytes.NewReader(body))
	if err := s.Sign(plain, body); err != nil {
		t.Fatal(err)
	}
	plain.ContentLength = int64(len(body))
	plain.Header.Set(digestHeader, streamRequest(t, s, body).Header.Get(digestHeader))
	if _, _, err := newVerifier().VerifyStream(t.Context(), plain); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("an ordinary signature as a streamed one: %v, want ErrBadSignature", err)
	}
	if _, err := newVerifier().Verify(t.Context(), streamRequest(t, s, body), body); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a streamed signature as an ordinary one: %v, want ErrBadSignature", err)
	}
}

type readerThatFails struct{ t *testing.T }

func (r readerThatFails) Read([]byte) (int, error) {
	r.t.Error("the body was read")
	return 0, io.ErrUnexpectedEOF
}

// Check passes the declared body through and ends any other in
// ErrBodyMismatch, never in io.EOF.
func TestCheckRefusesABodyOtherThanTheDeclaredOne(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10000)
	d := Declared{Length: int64(len(body)), SHA256: sha256.Sum256(body)}
	got, err := io.ReadAll(d.Check(bytes.NewReader(body)))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("the declared body: %d bytes, %v", len(got), err)
	}
	changed := bytes.Clone(body)
	changed[5000] ^= 1
	for name, other := range map[string][]byte{
		"shorter": body[:len(body)-1], "longer": append(bytes.Clone(body), 'x'), "changed": changed, "empty": nil,
	} {
		if _, err := io.ReadAll(d.Check(bytes.NewReader(other))); !errors.Is(err, ErrBodyMismatch) {
			t.Errorf("%s body: %v, want ErrBodyMismatch", name, err)
		}
	}
}
