package sso

import "errors"

// Reasons a sign-in is refused. Each is a separate value so that the
// caller can audit it and tests can compare with errors.Is; the caller
// shows the person a sentence of its own, never the detail.
var (
	// ErrState: the state the provider sent back is not the one bound to
	// this browser (forged, stale, or the sign-in began in another
	// browser).
	ErrState = errors.New("sso: state does not match this browser's sign-in")
	// ErrProvider: the provider answered the sign-in with an error
	// (access_denied, ...).
	ErrProvider = errors.New("sso: the identity provider refused the sign-in")
	// ErrCode: the provider would not exchange the code (used already,
	// expired, or not issued to this client).
	ErrCode = errors.New("sso: the identity provider refused the authorization code")
	// ErrUnreachable: the provider's discovery, key or token endpoint did
	// not answer.
	ErrUnreachable = errors.New("sso: the identity provider could not be reached")
	// ErrToken: the ID token is missing, not signed by the provider's
	// keys, or issued by another issuer.
	ErrToken = errors.New("sso: the ID token is not valid")
	// ErrAudience: the ID token was issued to another client.
	ErrAudience = errors.New("sso: the ID token is for another client")
	// ErrExpired: the ID token has expired (beyond the allowed clock
	// skew), or was issued in the future.
	ErrExpired = errors.New("sso: the ID token has expired")
	// ErrNonce: the ID token's nonce is not this sign-in's.
	ErrNonce = errors.New("sso: the ID token's nonce does not match")
	// ErrClaims: the ID token lacks the claim naming the user, or a claim
	// has the wrong shape.
	ErrClaims = errors.New("sso: the ID token's claims cannot be used")
)

// Reason is a short, stable name for err's refusal, for audit records
// and logs ("state", "audience", ...); "error" for anything else.
func Reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{{ErrState, "state"}, {ErrProvider, "provider"}, {ErrCode, "code"}, {ErrUnreachable, "unreachable"},
		{ErrToken, "token"}, {ErrAudience, "audience"}, {ErrExpired, "expired"}, {ErrNonce, "nonce"}, {ErrClaims, "claims"}} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "error"
}
