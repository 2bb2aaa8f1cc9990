// Package store defines Lockbox's persistent records and the interface the
// workflow uses to read and change them. Engines live below it
// (store/sqlstore: SQLite and MySQL); store/storetest holds the one test
// suite every engine must pass.
//
// All changes go through Update, so that a change and the audit record that
// describes it commit together or not at all.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors that engines return; compare with errors.Is.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrDuplicate = errors.New("store: already exists")
	// ErrConflict: a conditional update found the row in another state,
	// e.g. a request already decided by a racing approver.
	ErrConflict = errors.New("store: changed concurrently")
	// ErrUnavailable wraps failures to reach the database. Nothing of the
	// call was changed. Callers fail closed on it.
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrOutcomeUnknown: the connection to the database was lost while it
	// committed the change, and the store could not learn before the
	// caller's deadline whether the commit took place. The change may or
	// may not be stored; ask again (an idempotency key makes that safe).
	ErrOutcomeUnknown = errors.New("store: outcome of the change unknown")
)

// Store is a database of Lockbox records. Implementations are safe for
// concurrent use.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil. Concurrent calls may share one database transaction
	// (group commit); each fn still sees its own changes and its failure
	// undoes only its own changes. fn may be called more than once when a
	// transaction is retried, so it must have no effects outside tx.
	//
	// Update answers by ctx's deadline (or the engine's own, if sooner or
	// if ctx has none): ErrUnavailable when nothing was changed,
	// ErrOutcomeUnknown when the commit was under way and its fate could
	// not be learnt. When it returns, fn is no longer running.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction, by the same deadline.
	View(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database answers, by ctx's deadline.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is what a transaction can do. Methods that change state return an
// error in a View.
type Tx interface {
	CreateRequest(r *Request) error
	// Request returns the request with id. LockRequest also locks its row
	// until the transaction ends, so deciders serialise on it.
	Request(id string) (*Request, error)
	LockRequest(id string) (*Request, error)
	// UpdateRequest writes r if the stored state is still from; otherwise
	// ErrConflict.
	UpdateRequest(r *Request, from State) error
	Requests(f RequestFilter) ([]*Request, error)
	// CountOpen counts the user's pending requests and active grants.
	CountOpen(user string, now time.Time) (pending, active int, err error)

	AddApproval(a Approval) error // ErrDuplicate if this approver approved already
	Approvals(requestID string) ([]Approval, error)

	AddCertificate(c *Certificate) error // ErrDuplicate on a reused serial
	Certificates(requestID string) ([]*Certificate, error)
	// RevokedSerials lists the serials of certificates of kind issued for
	// revoked grants that are still within their validity at now.
	RevokedSerials(kind CertKind, now time.Time) ([]uint64, error)

	// AuditHead returns the last audit row's sequence number and hash
	// (0 and nil for an empty log), locking the head in a write transaction.
	AuditHead() (seq int64, hash []byte, err error)
	// AppendAudit adds r, which must directly follow the head.
	AppendAudit(r AuditRecord) error
	// Audit returns up to limit rows with Seq > after, in order.
	Audit(after int64, limit int) ([]AuditRecord, error)

	// UseNonce records a signed API call's nonce; ErrDuplicate if it was
	// used already. Nonces past their expiry may be pruned.
	UseNonce(principal, nonce string, expires time.Time) error
	PruneNonces(now time.Time) error

	CreateSession(s *Session) error
	Session(id string) (*Session, error)
	UpdateSession(s *Session) error
	Sessions(f SessionFilter) ([]*Session, error)

	// TakeLease gives l.User's lease to l.SessionID if nobody holds it or
	// the holder's lease expired before now; ErrConflict (with the holder
	// returned) otherwise.
	TakeLease(l Lease, now time.Time) (holder *Lease, err error)
	// RenewLease extends the lease if sessionID still holds it;
	// ErrNotFound otherwise.
	RenewLease(user, sessionID string, expires time.Time) error
	// ReleaseLease frees the lease if sessionID holds it.
	ReleaseLease(user, sessionID string) error
	// Lease returns user's lease row, expired or not; ErrNotFound if
	// there is none.
	Lease(user string) (*Lease, error)

	Throttle(key string) (*Throttle, error) // a zero Throttle if none
	PutThrottle(t *Throttle) error

	MFA(user string) (*MFA, error)
	PutMFA(m *MFA) error
	// AdvanceMFAStep sets the last used TOTP step to step if it is still
	// below step; ErrConflict otherwise (a code is good once).
	AdvanceMFAStep(user string, step int64) error

	// Password returns user's web password; ErrNotFound if none is set.
	Password(user string) (*Password, error)
	PutPassword(p *Password) error

	// CreateWebSession stores a web login; ErrDuplicate on a reused token.
	CreateWebSession(s *WebSession) error
	// WebSession returns the session whose token hashes to tokenHash;
	// ErrNotFound if there is none.
	WebSession(tokenHash string) (*WebSession, error)
	// TouchWebSession records use: LastSeen and IdleUntil. ErrNotFound if
	// the session is gone (logged out on another replica).
	TouchWebSession(tokenHash string, lastSeen, idleUntil time.Time) error
	DeleteWebSession(tokenHash string) error
	// DeleteUserWebSessions ends every web session of user.
	DeleteUserWebSessions(user string) error
	// PruneWebSessions deletes sessions idle or expired at now.
	PruneWebSessions(now time.Time) error

	// CreateSSOPending stores a sign-in waiting for its TOTP code;
	// ErrDuplicate on a reused token.
	CreateSSOPending(p *SSOPending) error
	// TakeSSOPending returns and deletes the pending sign-in whose token
	// hashes to tokenHash; ErrNotFound if there is none (taken already,
	// or never made). Expired ones are returned too: the caller checks.
	TakeSSOPending(tokenHash string) (*SSOPending, error)
	// PruneSSOPending deletes pending sign-ins expired at now.
	PruneSSOPending(now time.Time) error

	AnswerTx
	DirectoryTx
	ReviewTx
	OutboxTx
	LiveTx
}

// AuditRecord is one row of the audit log; see package audit for its hash.
type AuditRecord struct {
	Seq      int64
	Time     time.Time
	Actor    string
	Action   string
	Subject  string
	Detail   []byte // JSON
	PrevHash []byte
	Hash     []byte
}

// MFA is a user's TOTP enrolment. Secret is sealed (package secretbox).
type MFA struct {
	User       string
	Secret     []byte
	LastStep   int64
	EnrolledAt time.Time
}
