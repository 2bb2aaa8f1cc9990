package store

import "time"

// State is where a request stands. A request is pending until decided;
// an approved request is a grant, live for [NotBefore, NotAfter), that ends
// as expired or revoked.
type State string

const (
	Pending  State = "pending"
	Approved State = "approved"
	Denied   State = "denied"
	Expired  State = "expired"
	Rejected State = "rejected"
	Revoked  State = "revoked"
)

// Request is an engineer's request and, once approved, the grant.
type Request struct {
	ID        string
	User      string
	Role      string
	Resources []string
	Duration  time.Duration
	Reason    string
	Ticket    string
	State     State
	CreatedAt time.Time
	// PendingUntil is when a pending request expires undecided.
	PendingUntil time.Time
	// DecidedAt, DecidedBy and Decision describe the last state change
	// (approval, denial, rejection, expiry or revocation).
	DecidedAt time.Time
	DecidedBy string
	Decision  string
	// NotBefore and NotAfter bound an approved grant.
	NotBefore time.Time
	NotAfter  time.Time
	// Start is the start of the window the requester asked for (a
	// scheduled window); zero when the window starts at approval.
	Start time.Time
	// EscalateAt is when the next escalation of a pending request is due
	// (zero: none); EscalatedAt is when an escalation was last recorded
	// (zero: never). Requirements due by EscalatedAt are escalated.
	EscalateAt  time.Time
	EscalatedAt time.Time
}

// Live reports whether r is an approved grant inside its window at now.
func (r *Request) Live(now time.Time) bool {
	return r.State == Approved && !now.Before(r.NotBefore) && now.Before(r.NotAfter)
}

// Scheduled reports whether r is an approved grant whose window has not
// opened yet at now.
func (r *Request) Scheduled(now time.Time) bool {
	return r.State == Approved && now.Before(r.NotBefore)
}

// Granted reports whether r is an approved grant whose window has not
// ended at now: live, or scheduled to open later.
func (r *Request) Granted(now time.Time) bool {
	return r.State == Approved && now.Before(r.NotAfter)
}

// RequestFilter selects requests; zero fields select everything.
type RequestFilter struct {
	User   string
	States []State
	// PendingBefore selects pending requests whose PendingUntil is at or
	// before it; EndedBefore selects approved grants whose NotAfter is at
	// or before it. The expiry sweeper uses them.
	PendingBefore time.Time
	EndedBefore   time.Time
	// EscalateBefore selects pending requests with an escalation due at
	// or before it (EscalateAt set and not after it).
	EscalateBefore time.Time
	Limit          int // 0 = 1000
}

// Approval is one approver's yes.
type Approval struct {
	RequestID string
	Approver  string
	Reason    string
	At        time.Time
	// Duration is how long this approver lets the grant last, when they
	// shortened it; zero: as asked.
	Duration time.Duration
}

// CertKind tells grant certificates from the bastion's hop certificates.
type CertKind string

const (
	UserCert CertKind = "user"
	HopCert  CertKind = "hop"
)

// Certificate records an issued certificate.
type Certificate struct {
	Serial      uint64
	Kind        CertKind
	RequestID   string
	User        string
	Bastion     string // for hop certificates
	KeyID       string
	Principals  []string
	Fingerprint string // SHA256 of the subject key
	ValidAfter  time.Time
	ValidBefore time.Time
	IssuedAt    time.Time
}
