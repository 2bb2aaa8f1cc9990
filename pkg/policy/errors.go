package policy

import "errors"

// Reasons a request or an approval is refused. Functions return them wrapped
// in a sentence naming the offending value; compare with errors.Is. Their
// text is written for the person making the request.
var (
	ErrUnknownUser       = errors.New("unknown user")
	ErrUnknownRole       = errors.New("unknown role")
	ErrUnknownResource   = errors.New("unknown resource")
	ErrNoResources       = errors.New("no resources requested")
	ErrDuplicateResource = errors.New("resource requested twice")
	ErrOutOfScope        = errors.New("out of scope")
	// ErrEligibilityNotYet and ErrEligibilityEnded: the only eligibility
	// for the request is dated and not in effect (see Dates). Errors
	// wrapping them match ErrOutOfScope too.
	ErrEligibilityNotYet = errors.New("eligibility not yet in effect")
	ErrEligibilityEnded  = errors.New("eligibility ended")
	ErrOverMaxDuration   = errors.New("duration over the role's maximum")
	ErrBadDuration       = errors.New("bad duration")
	ErrReasonRequired    = errors.New("reason required")
	ErrTicketRequired    = errors.New("ticket required")
	ErrBadTicket         = errors.New("bad ticket")
	ErrTooManyPending    = errors.New("too many pending requests")
	ErrTooManyActive     = errors.New("too many active grants")
	ErrSelfApproval      = errors.New("self-approval is not allowed")
	ErrNotApprover       = errors.New("not an approver")
)
