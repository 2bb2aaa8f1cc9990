package workflow

import "errors"

// Reasons the workflow refuses something, besides the policy's own.
var (
	ErrBadInput        = errors.New("bad input")
	ErrForbidden       = errors.New("not allowed")
	ErrNotFound        = errors.New("no such request")
	ErrNotPending      = errors.New("request is not pending")
	ErrPendingExpired  = errors.New("request expired before it was decided")
	ErrAlreadyApproved = errors.New("already approved by this approver")
	ErrNotLive         = errors.New("grant is not live")
	ErrNotInGrant      = errors.New("resource is not in the grant")
	ErrNotBastion      = errors.New("not a registered bastion")
	ErrMFAEnrolled     = errors.New("already enrolled in MFA")
	ErrMFANotEnrolled  = errors.New("not enrolled in MFA")
	ErrMFACode         = errors.New("wrong or reused MFA code")
	ErrThrottled       = errors.New("throttled")
	ErrCommand         = errors.New("command not allowed")
	// ErrStorageFull: the recording store has no room (ENOSPC, EDQUOT).
	// Nothing was stored; the same upload succeeds once there is room.
	ErrStorageFull = errors.New("recording storage full")
)

// refusal carries a refusal out of a store transaction that must still
// commit, because the refusal itself was audited.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
