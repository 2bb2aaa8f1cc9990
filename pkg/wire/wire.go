// Package wire holds the JSON shapes of Lockbox's HTTP API (/v1/), shared
// by the server (package api) and its clients. Field names are the
// contract: add fields, never rename them.
package wire

import "time"

// Error is every error response's body.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody names the error with a stable code and explains it.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SubmitRequest is the body of POST /v1/requests.
type SubmitRequest struct {
	Role      string   `json:"role"`
	Resources []string `json:"resources"`
	Duration  string   `json:"duration"` // Go duration, e.g. "2h"
	Reason    string   `json:"reason"`
	Ticket    string   `json:"ticket,omitempty"`
	// Start asks for a window that starts later: an RFC 3339 time, or
	// "+" and a Go duration counted from submission ("+8h"). Empty: the
	// window starts at approval.
	Start string `json:"start,omitempty"`
}

// Decision is the body of deny and revoke.
type Decision struct {
	Reason string `json:"reason,omitempty"`
}

// ApproveRequest is the body of POST /v1/requests/{id}/approve.
type ApproveRequest struct {
	Reason string `json:"reason,omitempty"`
	// Duration, a positive Go duration no longer than the one asked,
	// shortens the grant: it lasts the shortest any approver gave.
	Duration string `json:"duration,omitempty"`
	// Code is the approver's current TOTP code, for roles with
	// step_up_mfa.
	Code string `json:"code,omitempty"`
}

// Approval is one approver's yes.
type Approval struct {
	Approver string    `json:"approver"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
	// Duration is how long this approver lets the grant last, if they
	// shortened it.
	Duration string `json:"duration,omitempty"`
}

// Request is a request, or a grant once approved.
type Request struct {
	ID           string     `json:"id"`
	User         string     `json:"user"`
	Role         string     `json:"role"`
	Resources    []string   `json:"resources"`
	Duration     string     `json:"duration"`
	Reason       string     `json:"reason"`
	Ticket       string     `json:"ticket,omitempty"`
	State        string     `json:"state"`
	CreatedAt    time.Time  `json:"created_at"`
	PendingUntil *time.Time `json:"pending_until,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	Decision     string     `json:"decision,omitempty"`
	NotBefore    *time.Time `json:"not_before,omitempty"`
	NotAfter     *time.Time `json:"not_after,omitempty"`
	// Approvals: who approved, when, why; in every state for GET
	// /v1/requests/{id}, for pending requests only in lists.
	Approvals []Approval `json:"approvals,omitempty"`
	// Outstanding words the approvals still needed as the audit log does
	// ("1 from group security"); Needs names who can give each.
	Outstanding []string `json:"outstanding,omitempty"`
	Needs       []Need   `json:"needs,omitempty"`
	// Allows is what the grant lets its holder do (pending and approved
	// requests); Window its window (if approved now, while pending).
	Allows *Allows `json:"allows,omitempty"`
	Window *Window `json:"window,omitempty"`
	// NoLongerFits says why a pending request can no longer be approved
	// under the current policy.
	NoLongerFits string `json:"no_longer_fits,omitempty"`
	CanApprove   bool   `json:"can_approve,omitempty"`
	// Start is the start of a scheduled window, as asked; absent when
	// the window starts at approval.
	Start *time.Time `json:"start,omitempty"`
	// GrantDuration, when approvers shortened the grant, is how long it
	// lasts (or will last): the shortest duration an approver gave.
	GrantDuration string `json:"grant_duration,omitempty"`
	// StepUpMFA: approving this request and fetching its certificate
	// need a fresh TOTP code (the role's step_up_mfa).
	StepUpMFA bool `json:"step_up_mfa,omitempty"`
	// EscalatedAt is when the request last escalated to an escalation
	// group (escalate_after passed with a requirement unmet).
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
}

// Requests is the body of GET /v1/requests.
type Requests struct {
	Requests []Request `json:"requests"`
}

// CertificateRequest is the body of POST /v1/requests/{id}/certificate.
type CertificateRequest struct {
	PublicKey string `json:"public_key"` // authorized_keys line
	// Code is the requester's current TOTP code, for roles with
	// step_up_mfa.
	Code string `json:"code,omitempty"`
}

// HopCertificateRequest is the body of POST /v1/requests/{id}/hop-certificate.
type HopCertificateRequest struct {
	Resource  string `json:"resource"`
	PublicKey string `json:"public_key"`
}

// Certificate is a signed certificate.
type Certificate struct {
	Certificate string    `json:"certificate"` // authorized_keys line
	Serial      string    `json:"serial"`      // decimal; uint64 does not survive JSON numbers
	KeyID       string    `json:"key_id"`
	Principals  []string  `json:"principals"`
	ValidAfter  time.Time `json:"valid_after"`
	ValidBefore time.Time `json:"valid_before"`
}

// CAKeys is the body of GET /v1/ca: the public keys to trust.
type CAKeys struct {
	UserCA string `json:"user_ca"`
	HopCA  string `json:"hop_ca"`
	HostCA string `json:"host_ca,omitempty"`
	// UserCAs, HopCAs and HostCAs are every key of each CA to trust now,
	// the signing key (UserCA, HopCA, HostCA) first: one key, or two
	// during a key rotation's overlap. An older CA leaves them out; then
	// trust the single key.
	UserCAs []string `json:"user_cas,omitempty"`
	HopCAs  []string `json:"hop_cas,omitempty"`
	HostCAs []string `json:"host_cas,omitempty"`
	// Audit is the key that signs audit checkpoints (not a CA).
	Audit string `json:"audit,omitempty"`
}

// AuditRecord is one audit row.
type AuditRecord struct {
	Seq      int64          `json:"seq"`
	Time     time.Time      `json:"time"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Subject  string         `json:"subject"`
	Detail   map[string]any `json:"detail"`
	PrevHash string         `json:"prev_hash"` // hex
	Hash     string         `json:"hash"`      // hex
}

// Audit is the body of GET /v1/audit.
type Audit struct {
	Records []AuditRecord `json:"records"`
}

// AuditVerification is the body of GET /v1/audit/verify.
type AuditVerification struct {
	OK       bool   `json:"ok"`
	Rows     int64  `json:"rows"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Error    string `json:"error,omitempty"`
}

// MFAEnroll is the body of POST /v1/mfa/enroll.
type MFAEnroll struct {
	Code string `json:"code,omitempty"` // a current code, when enrolling again
}

// MFAEnrolled is its answer.
type MFAEnrolled struct {
	URI string `json:"otpauth_uri"`
}

// WhoAmI is the body of GET /v1/whoami.
type WhoAmI struct {
	Principal string `json:"principal"`
}
