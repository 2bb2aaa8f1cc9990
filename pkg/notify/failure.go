package notify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Class says what to do after a failed delivery.
type Class int

const (
	// Retryable failures may pass later: network errors, timeouts, a
	// receiver that is down, busy or rate limiting.
	Retryable Class = iota
	// Permanent failures will fail again the same way: the receiver
	// refused the message or its recipient, or the message or the
	// endpoint's configuration is wrong. The message goes dead at once.
	Permanent
)

func (c Class) String() string {
	if c == Permanent {
		return "permanent"
	}
	return "retryable"
}

// Why a delivery failed. Senders wrap one of these in a *Failure.
var (
	// ErrUnavailable: the receiver answered 5xx or 408, or the SMTP server
	// answered 4xx.
	ErrUnavailable = errors.New("notify: receiver unavailable")
	// ErrRateLimited: the receiver answered 429.
	ErrRateLimited = errors.New("notify: rate limited")
	// ErrRefused: the receiver answered another 4xx (HTTP) or 5xx (SMTP).
	ErrRefused = errors.New("notify: refused by the receiver")
	// ErrRedirected: the endpoint answered with a redirect, which is not
	// followed (it would send a signed body elsewhere).
	ErrRedirected = errors.New("notify: endpoint redirected")
	// ErrRecipientRejected: the SMTP server refused a recipient for good.
	ErrRecipientRejected = errors.New("notify: recipient rejected")
	// ErrNoStartTLS: STARTTLS is required and the SMTP server did not
	// offer it, or the TLS handshake failed.
	ErrNoStartTLS = errors.New("notify: STARTTLS required")
	// ErrNetwork: the receiver could not be reached, or the connection
	// broke or timed out.
	ErrNetwork = errors.New("notify: network error")
	// ErrCertificate: the receiver's TLS certificate is not trusted or
	// does not name it. Permanent: someone has to fix it.
	ErrCertificate = errors.New("notify: receiver's certificate refused")
)

// Failure is a failed delivery, classified. Senders return one for every
// failure; Classify and RetryAfter read it.
type Failure struct {
	Class Class
	// RetryAfter is how long the receiver asked us to wait (HTTP
	// Retry-After), or zero.
	RetryAfter time.Duration
	Err        error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%v (%v)", f.Err, f.Class)
}

func (f *Failure) Unwrap() error { return f.Err }

// retryable and permanent build a Failure around reason and detail.
func retryable(reason error, format string, args ...any) *Failure {
	return &Failure{Class: Retryable, Err: wrapReason(reason, format, args...)}
}

func permanent(reason error, format string, args ...any) *Failure {
	return &Failure{Class: Permanent, Err: wrapReason(reason, format, args...)}
}

func wrapReason(reason error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", reason, fmt.Sprintf(format, args...))
}

// Classify says whether err, from a sender of this package or anything it
// wraps, is worth trying again. A *Failure carries its class; invalid
// messages and secrets are permanent; TLS certificate errors (a wrong or
// untrusted certificate) are permanent, as someone has to fix them;
// context cancellation and anything else unknown count as retryable, since
// delivery is at least once and the caller bounds the attempts.
func Classify(err error) Class {
	if f, ok := errors.AsType[*Failure](err); ok {
		return f.Class
	}
	switch {
	case errors.Is(err, ErrInvalidMessage), errors.Is(err, ErrSecret):
		return Permanent
	case isCertificateError(err):
		return Permanent
	}
	return Retryable
}

// RetryAfter returns the wait the receiver asked for, if it did.
func RetryAfter(err error) (time.Duration, bool) {
	if f, ok := errors.AsType[*Failure](err); ok && f.RetryAfter > 0 {
		return f.RetryAfter, true
	}
	return 0, false
}

func isCertificateError(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return true
	}
	_, ok := errors.AsType[x509.HostnameError](err)
	return ok
}
