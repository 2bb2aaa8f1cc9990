package store

import "time"

// WebSession is a login to the web form. The cookie holds a random token;
// the store keeps only its SHA-256 (TokenHash, hex), so a copy of the
// database opens no session.
type WebSession struct {
	TokenHash string
	User      string
	// CSRF is the session's form token, sent in every form and checked on
	// every POST.
	CSRF      string
	Addr      string // the client address at login
	CreatedAt time.Time
	LastSeen  time.Time
	// IdleUntil moves forward with use (never past Expires); Expires is the
	// absolute end.
	IdleUntil time.Time
	Expires   time.Time
}

// Password is a user's web form password: a PHC-style argon2id string.
type Password struct {
	User  string
	Hash  string
	SetAt time.Time
}

// SSOPending is a sign-in through the identity provider that waits for
// the person's Lockbox TOTP code (the provider's MFA is not trusted, or
// its token did not show it). The browser holds a random token; the store
// keeps its SHA-256. It is taken (read and deleted) by the code's form,
// right or wrong, so a code is tried once per sign-in at the provider.
type SSOPending struct {
	TokenHash string
	User      string
	// Groups: the ID token's groups, recorded once the code is right.
	Groups    []string
	Issuer    string
	Subject   string
	Addr      string
	CreatedAt time.Time
	Expires   time.Time
}
