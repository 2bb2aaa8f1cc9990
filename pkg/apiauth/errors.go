package apiauth

import "errors"

// Reasons a request is refused. Verify wraps them with detail for the log;
// compare with errors.Is. Map all of them to 401 at the HTTP edge and do not
// show the detail to the client.
var (
	// ErrMissing: the request has no Authorization header.
	ErrMissing = errors.New("apiauth: missing Authorization header")
	// ErrMalformed: the header does not follow the Lockbox-SSH-Sig format.
	ErrMalformed = errors.New("apiauth: malformed Authorization header")
	// ErrStale: the timestamp is outside the accepted window.
	ErrStale = errors.New("apiauth: timestamp outside accepted window")
	// ErrUnknownKey: the principal is unknown, or the key is not one of its
	// registered keys. The two cases share one error so that callers cannot
	// probe which principals exist.
	ErrUnknownKey = errors.New("apiauth: unknown principal or key")
	// ErrBadSignature: the signature does not verify over the request, or uses
	// a signature algorithm that is not accepted for the key.
	ErrBadSignature = errors.New("apiauth: bad signature")
	// ErrReplay: the nonce was already used by this principal.
	ErrReplay = errors.New("apiauth: nonce already used")
)

// ErrNoMatchingKey is returned by PickSigner when none of the available keys
// is one the caller asked for.
// Its text (like ErrEncryptedKey's) is written to be shown to people.
var ErrNoMatchingKey = errors.New("no available key matches a registered key")

// ErrNonceStoreFull is returned by MemoryNonces when it holds its maximum
// number of unexpired nonces. It refuses rather than forgets, so that a
// replay can never slip through.
var ErrNonceStoreFull = errors.New("apiauth: nonce store full")

// ErrEncryptedKey is returned by LoadKeyFile for a passphrase-protected key.
var ErrEncryptedKey = errors.New("key file is encrypted")
