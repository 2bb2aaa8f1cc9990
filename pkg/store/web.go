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
