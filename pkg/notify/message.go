package notify

import (
	"time"
)

// Kind names what happened. The values are part of the webhook schema:
// add kinds, never rename them.
type Kind string

// The events Lockbox tells people about.
const (
	// RequestPending: a request waits for the approval of the people in
	// Message.To, each of whom can still approve it.
	RequestPending Kind = "request.pending"
	// RequestDecided: a request was approved or denied (Request.Decision);
	// to its requester.
	RequestDecided Kind = "request.decided"
	// RequestExpired: nobody decided before the pending timeout.
	RequestExpired Kind = "request.expired"
	// GrantStarted: an approved grant's window began.
	GrantStarted Kind = "grant.started"
	// GrantEndingSoon: a grant ends within minutes (Request.Window.NotAfter).
	GrantEndingSoon Kind = "grant.ending_soon"
	// GrantEnded: a grant's window is over.
	GrantEnded Kind = "grant.ended"
	// GrantRevoked: a grant was ended early (Request.Decision says by whom).
	GrantRevoked Kind = "grant.revoked"
	// SessionStarted and SessionEnded: a session on a resource that has its
	// own approval rule (Message.Session).
	SessionStarted Kind = "session.started"
	SessionEnded   Kind = "session.ended"
	// MessageDead: another message could not be delivered and was given up
	// (Message.Dead).
	MessageDead Kind = "message.dead"
	// RequestEscalated: nobody decided a pending request in time, so the
	// escalation group (Message.To) may now approve it in place of the
	// approvers who did not act.
	RequestEscalated Kind = "request.escalated"
	// EligibilityEnding: a dated team membership or eligibility ends soon
	// (Message.Eligibility); to the people who lose it and their managers.
	EligibilityEnding Kind = "eligibility.ending"
	// UserDeprovisioned: a person's access was taken away at once
	// (Message.Deprovisioned); to their managers.
	UserDeprovisioned Kind = "user.deprovisioned"
	// BreakGlass: an emergency certificate was signed offline while the
	// CA was down (BreakGlass.Event "issued", once the CA audits it at
	// start), or a session made with one was reported by its bastion
	// ("session"). Message.BreakGlass says who, why and where.
	BreakGlass Kind = "break_glass"
)

// Kinds lists every Kind, in the order above.
var Kinds = []Kind{
	RequestPending, RequestDecided, RequestExpired,
	GrantStarted, GrantEndingSoon, GrantEnded, GrantRevoked,
	SessionStarted, SessionEnded, MessageDead,
	RequestEscalated, EligibilityEnding, UserDeprovisioned,
	BreakGlass,
}

// Message is one notification: what happened, to whom, and the plain data
// renderers show. All text in it is as the store and policy hold it;
// renderers make it inert. The caller (the outbox) fills it; Validate
// checks it before anything is sent.
type Message struct {
	// Key is the idempotency key: the same for every attempt to deliver
	// this message (see NewKey), sent in every channel so receivers can
	// drop repeats.
	Key  string
	Kind Kind
	// Time is when the event happened.
	Time time.Time
	// To are the people this message addresses by name; the email
	// channel sends to their addresses. Empty for channel-wide messages.
	To []Recipient
	// Link is the page of the request or session on the CA's web form
	// (absolute http or https URL), or empty.
	Link string

	Request *Request // the request or grant; nil for dead-message notices
	Session *Session // set for session events
	Dead    *Dead    // set for MessageDead
	// Eligibility is set for EligibilityEnding.
	Eligibility *Eligibility
	// Deprovisioned is set for UserDeprovisioned.
	Deprovisioned *Deprovisioned
	// BreakGlass is set for BreakGlass.
	BreakGlass *BreakGlassUse
}

// Recipient is a person a message addresses.
type Recipient struct {
	Name  string
	Email string // empty when the person has none in policy
}

// Request is a request or grant as people need to see it to decide.
type Request struct {
	ID        string
	Requester string
	Role      Role
	Resources []Resource
	// Duration is what was asked for.
	Duration time.Duration
	// Window is the grant's validity: for a pending request, the exact
	// window it would have if approved at Message.Time; for a grant, its
	// real window.
	Window        Window
	Justification string
	Ticket        string
	// Outstanding are the approvals still needed, each with the people who
	// can give it. Empty once fully approved.
	Outstanding []Requirement
	// Approvals are the approvals already given, in order.
	Approvals []Approval
	// Decision is set once decided, expired or revoked.
	Decision *Decision
}

// Role is what the grant lets its holder do.
type Role struct {
	Name        string
	Description string
	Login       string // the account on the target
	Interactive bool   // a PTY and a shell
	// AllowedCommands are the role's command patterns; empty means any.
	AllowedCommands []string
	MaxDuration     time.Duration
	ForceCommand    string
}

// Resource is one target of the request.
type Resource struct {
	Name        string
	Description string
	Tags        []string
	// OwnApproval marks a resource with its own approval rule (customer
	// data, Customer Lockbox): renderers mark it.
	OwnApproval bool
}

// Window is a grant's validity.
type Window struct {
	NotBefore, NotAfter time.Time
}

// Requirement is one approval still needed: Count more of the people in
// Of, described by Label ("managers of storage", "group security").
type Requirement struct {
	Count int
	Of    []string
	Label string
}

// Approval is one approver's yes.
type Approval struct {
	By     string
	Reason string
	At     time.Time
}

// Outcome is how a request or grant ended.
type Outcome string

// The outcomes a Decision carries.
const (
	Approved Outcome = "approved"
	Denied   Outcome = "denied"
	Expired  Outcome = "expired"
	Revoked  Outcome = "revoked"
)

// Decision is how a request was decided, or a grant ended early.
type Decision struct {
	Outcome Outcome
	By      string // empty when nobody decided (expiry)
	Reason  string
	At      time.Time
}

// Session is one SSH session through the bastion.
type Session struct {
	ID        string
	User      string
	Resource  string
	Role      string
	RequestID string
	Command   string // the exec command, empty for a shell
	StartedAt time.Time
	EndedAt   time.Time // zero while it runs
	EndReason string
}

// Dead describes a message that was given up after its attempts.
type Dead struct {
	Key       string // the dead message's idempotency key
	Kind      Kind
	Channel   string // the endpoint's name
	Attempts  int
	LastError string
}

// Eligibility is a dated team membership or eligibility entry that ends.
type Eligibility struct {
	Team string
	// Member is whose membership ends, or empty when an eligibility entry
	// of the team ends for every member.
	Member string
	// Roles and Resources stop being requestable (resources as policy
	// writes them: names and tag:X).
	Roles, Resources []string
	// People lose the eligibility; Managers are the team's.
	People, Managers []string
	Until            time.Time
}

// Deprovisioned is what a deprovisioning took away from User.
type Deprovisioned struct {
	User string
	// By says what deprovisioned them: the directory or the policy.
	By     string
	Reason string
	// Withdrawn are the pending requests denied, Revoked the grants
	// revoked, Sessions the sessions ended.
	Withdrawn, Revoked, Sessions []string
}

// The two events of a BreakGlass message.
const (
	BreakGlassIssued  = "issued"
	BreakGlassSession = "session"
)

// BreakGlassUse is a break-glass certificate's issuance or a session made
// with it.
type BreakGlassUse struct {
	Event    string // BreakGlassIssued or BreakGlassSession
	User     string
	Role     string
	Resource string
	Reason   string
	Bastion  string
	Serial   string // the certificate's serial, in decimal
	// Operator ran ca break-glass (issued only).
	Operator string
	NotAfter time.Time // the certificate's end
	// The session (session only).
	SessionID  string
	Client     string
	Command    string // empty for a shell
	StartedAt  time.Time
	EndedAt    time.Time
	EndReason  string
	ExitStatus *int
}
