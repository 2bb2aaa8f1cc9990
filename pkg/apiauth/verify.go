package apiauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/crypto/ssh"
)

// DefaultWindow is the clock skew accepted each way when Verifier.Window is 0.
const DefaultWindow = 60 * time.Second

// Keys looks up the SSH public keys registered for a principal. It returns
// nil or an empty slice for an unknown principal.
type Keys interface {
	Keys(principal string) []ssh.PublicKey
}

// KeysFunc adapts a function to Keys.
type KeysFunc func(principal string) []ssh.PublicKey

// Keys calls f(principal).
func (f KeysFunc) Keys(principal string) []ssh.PublicKey { return f(principal) }

// NonceStore remembers used nonces per principal.
type NonceStore interface {
	// Use records nonce as used by principal and returns ErrReplay if it was
	// already recorded. The record must be kept at least until expires
	// (inclusive); after that the Verifier refuses the request as stale, so
	// the store may forget it. Any other error makes Verify refuse.
	Use(ctx context.Context, principal, nonce string, expires time.Time) error
}

// Verifier authenticates requests signed by a Signer. Keys and Nonces are
// required. A Verifier is safe for concurrent use if Keys and Nonces are.
type Verifier struct {
	Keys   Keys
	Nonces NonceStore
	// Window is the clock skew accepted each way; 0 means DefaultWindow.
	Window time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Verify authenticates r and returns its principal. body must be the whole
// request body, which the caller has already read (with a size limit); Verify
// does not read r.Body. Errors wrap ErrMissing, ErrMalformed, ErrStale,
// ErrUnknownKey, ErrBadSignature or ErrReplay; anything else (such as a
// failing NonceStore) is an internal error. Either way, refuse the request.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (principal string, err error) {
	return v.verify(ctx, r, sha256.Sum256(body), notStreamed)
}

// VerifyStream authenticates a call signed with Signer.SignStream from its
// headers alone, without reading r.Body, and returns its principal and
// what it declares of its body. Read the body only after it succeeds, and
// only through d.Check(r.Body), which ends in ErrBodyMismatch unless the
// body is the declared one; keep nothing of a body that ended so. Besides
// Verify's errors, a missing Content-Length (a chunked body) or
// Content-Digest is ErrMalformed.
func (v *Verifier) VerifyStream(ctx context.Context, r *http.Request) (principal string, d Declared, err error) {
	if d, err = parseDeclared(r); err != nil {
		if _, herr := requestParams(r); herr != nil {
			return "", d, herr // no Authorization at all says more than a missing digest
		}
		return "", d, err
	}
	principal, err = v.verify(ctx, r, d.SHA256, d.Length)
	return principal, d, err
}

func (v *Verifier) verify(ctx context.Context, r *http.Request, digest [sha256.Size]byte, length int64) (principal string, err error) {
	if v.Keys == nil || v.Nonces == nil {
		return "", errors.New("apiauth: Verifier needs Keys and Nonces")
	}
	p, err := requestParams(r)
	if err != nil {
		return "", err
	}
	signedAt := time.Unix(p.ts, 0)
	if err := v.checkTime(signedAt); err != nil {
		return "", err
	}
	key := v.registeredKey(p.principal, p.keyFP)
	if key == nil {
		return "", ErrUnknownKey
	}
	if err := verifySignature(key, signedMessage(p, r, digest, length), p.sig); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	// Only now, with the signature checked, may the nonce be spent: otherwise
	// anyone could burn another principal's nonces.
	if err := v.Nonces.Use(ctx, p.principal, p.nonce, signedAt.Add(v.window())); err != nil {
		if errors.Is(err, ErrReplay) {
			return "", ErrReplay
		}
		return "", fmt.Errorf("apiauth: recording nonce: %w", err)
	}
	return p.principal, nil
}

func requestParams(r *http.Request) (*authParams, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return nil, ErrMissing
	case 1:
		return parseHeader(values[0])
	default:
		return nil, fmt.Errorf("%w: more than one Authorization header", ErrMalformed)
	}
}

func (v *Verifier) checkTime(signedAt time.Time) error {
	now, window := v.now(), v.window()
	if now.Sub(signedAt) > window || signedAt.Sub(now) > window {
		return fmt.Errorf("%w: signed at %s, now %s", ErrStale,
			signedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// registeredKey returns the principal's key with fingerprint fp, or nil.
func (v *Verifier) registeredKey(principal, fp string) ssh.PublicKey {
	for _, k := range v.Keys.Keys(principal) {
		if k != nil && ssh.FingerprintSHA256(k) == fp {
			return k
		}
	}
	return nil
}

func (v *Verifier) window() time.Duration {
	if v.Window <= 0 {
		return DefaultWindow
	}
	return v.Window
}

func (v *Verifier) now() time.Time {
	if v.Clock == nil {
		return time.Now()
	}
	return v.Clock()
}
