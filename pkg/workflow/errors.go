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
	// ErrStorageUnavailable: the recording store cannot be reached or
	// refused (an object store that is down or denies writes). Nothing
	// was stored or served; the same call may succeed later.
	ErrStorageUnavailable = errors.New("recording storage unavailable")
	// ErrRecordingMismatch: a recording read back from the store is not
	// the one stored (its size or SHA-256 differs from the recorded ones).
	ErrRecordingMismatch = errors.New("recording does not match what was stored")
	// ErrNotYetOpen: an approved grant whose scheduled window has not
	// opened; the message says when it does.
	ErrNotYetOpen = errors.New("the grant's window has not opened yet")
	// ErrBadStart: a requested start in the past (beyond StartAllowance)
	// or further ahead than MaxStartAhead.
	ErrBadStart = errors.New("bad start")
	// ErrGrantDuration: an approver's duration that is not positive, over
	// the requested one, or that would end the window before it starts.
	ErrGrantDuration = errors.New("bad grant duration")
	// ErrStepUpRequired: the role asks for a fresh MFA code and none was
	// given. It spends nothing and counts no failure.
	ErrStepUpRequired = errors.New("a fresh MFA code is required")
)

// refusal carries a refusal out of a store transaction that must still
// commit, because the refusal itself was audited.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
