package wire

import "time"

// SessionCheck is the body of POST /v1/sessions/check (bastions): could
// this user open a session on this grant now? The CA answers without
// taking or consuming anything, so that the bastion can refuse before it
// asks for the TOTP code.
type SessionCheck struct {
	RequestID  string `json:"request_id"`
	Resource   string `json:"resource"`
	User       string `json:"user"`
	ClientAddr string `json:"client_addr"`
}

// BastionRefusals is the body of POST /v1/bastion/refusals: what a bastion
// refused since its last report. Refusals of people (a certificate the
// user CA signed, whose key the client proved it holds) come one by one;
// refusals of callers nobody knows come as counts per source and reason.
type BastionRefusals struct {
	Refusals []BastionRefusal `json:"refusals,omitempty"`
	Counts   []RefusalCount   `json:"counts,omitempty"`
}

// Kinds of BastionRefusal.
const (
	RefusedLogin   = "login"   // a person's login
	RefusedChannel = "channel" // a channel or request of a logged-in person (forwarding, agent, X11, subsystems)
)

// BastionRefusal is one refusal of a known person.
type BastionRefusal struct {
	Kind        string    `json:"kind"`
	Time        time.Time `json:"time"`
	User        string    `json:"user"`
	RequestID   string    `json:"request_id,omitempty"`
	SessionID   string    `json:"session_id,omitempty"`
	Login       string    `json:"login,omitempty"` // the SSH user name asked for: RESOURCE or ROLE@RESOURCE
	KeyID       string    `json:"key_id,omitempty"`
	Serial      uint64    `json:"serial,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	ClientAddr  string    `json:"client_addr"`
	Type        string    `json:"type,omitempty"` // the channel or request type refused
	Target      string    `json:"target,omitempty"`
	Reason      string    `json:"reason"`
}

// RefusalCount is how many connections from Source a bastion refused for
// Reason between First and Last.
type RefusalCount struct {
	Source string    `json:"source"`
	Reason string    `json:"reason"`
	Count  int64     `json:"count"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
}

// BreakGlassSession is the body of POST /v1/bastion/break-glass-sessions:
// a bastion's report, once the CA answers, of a session it opened with a
// break-glass certificate while the CA was down. The CA checks the
// certificate itself; it takes nothing else on trust but the times and
// what was run.
type BreakGlassSession struct {
	SessionID string `json:"session_id"` // "bg-…", made by the bastion
	// Certificate is the break-glass certificate the client logged in
	// with, an authorized_keys line.
	Certificate string    `json:"certificate"`
	ClientAddr  string    `json:"client_addr"`
	Command     string    `json:"command"` // empty for a shell
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at"`
	EndReason   string    `json:"end_reason"`
	ExitStatus  *int      `json:"exit_status,omitempty"`
}
