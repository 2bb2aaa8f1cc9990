// Package workflow is Lockbox's control plane logic: requests and their
// state machine, approvals, grants, certificate issuance, revocation,
// expiry, MFA enrolment and the audit trail that records all of it.
//
// Every change and its audit record commit in one store transaction.
// Decisions that are refused are audited too: the refusal commits, and the
// caller gets the reason as an error that wraps a named value (policy's
// ErrOutOfScope, ErrSelfApproval, ...; this package's ErrForbidden,
// ErrNotPending, ...), so the HTTP edge maps kinds to statuses in one place.
//
// Nothing here reads configuration or the network: the store, the policy,
// the CA keys, the clock and the randomness are handed to New.
package workflow
