package policy

import (
	"maps"
	"net/netip"
	"time"

	"golang.org/x/crypto/ssh"
)

// Policy is a parsed, validated policy. It is read-only after Parse and safe
// for concurrent use; callers must not modify it or anything it points to.
// Load a new one and swap it in (see Holder) instead.
type Policy struct {
	Settings  Settings
	Users     map[string]*User
	Groups    map[string]*Group
	Teams     map[string]*Team
	Roles     map[string]*Role
	Resources map[string]*Resource
	Bastions  map[string]*Bastion
	// Notifications say where notifications go; empty without a
	// notifications section.
	Notifications Notifications
	// files are the files it was parsed from (see Files).
	files map[string][]byte
}

// Files returns the files p was parsed from, name -> content, as given to
// Parse (LoadDir names them with their directory). The contents are
// shared: callers must not modify them.
func (p *Policy) Files() map[string][]byte { return maps.Clone(p.files) }

// Settings are the policy-wide thresholds, with defaults filled in.
type Settings struct {
	MaxActiveGrantsPerUser    int
	MaxPendingRequestsPerUser int
	// DefaultMaxDuration is the MaxDuration of roles that set none.
	DefaultMaxDuration time.Duration
	// Auditors are the groups whose members may read the audit log, list
	// and replay sessions, and revoke grants. None by default.
	Auditors []string
	// CommandGate is the path of lockbox-gate on targets: the
	// ForceCommand of roles with AllowedCommands that set none.
	// DefaultCommandGate by default.
	CommandGate string
}

// Defaults for Settings, and the longest grant any role may allow.
const (
	DefaultMaxActiveGrantsPerUser    = 3
	DefaultMaxPendingRequestsPerUser = 5
	DefaultMaxDuration               = 4 * time.Hour
	LongestMaxDuration               = 168 * time.Hour
)

// User is a person. Keys are identity keys: they prove who the user is and
// open nothing by themselves.
type User struct {
	Name   string
	Keys   []ssh.PublicKey
	Groups []string // sorted
	// Email is where notifications to this person go, a bare address as
	// written in policy, or empty. It is contact data: only notifications
	// use it, and no page, API answer or audit record shows it.
	Email string
}

// Group is a named set of users, used by approval rules.
type Group struct {
	Name        string
	Description string
	// IDPGroup, when set, binds the group to the directory group of that
	// name (SCIM displayName, OIDC groups claim value; compared in any
	// case): its members are then also the people the directory puts in
	// that group (see WithDirectory).
	IDPGroup string
	Members  []string // derived from the users' groups, sorted
}

// Team holds users, their managers, and what the members may request.
// Managers are not members unless they are also listed as members.
type Team struct {
	Name        string
	Description string
	// Members are every member listed, dated or not; MemberDates holds
	// the dates of those whose membership has from: or until: (see
	// MemberAt).
	Members     []string
	MemberDates map[string]Dates
	Managers    []string
	Eligible    []Eligibility
}

// Eligibility lets a team's members request any of Roles on any resource
// named in Resources or carrying one of Tags, while Dates hold.
type Eligibility struct {
	Roles     []string
	Resources []string
	Tags      []string // without the "tag:" prefix
	Dates     Dates
}

// Role is what a grant lets its holder do on a resource.
type Role struct {
	Name        string
	Description string
	// Login is the account on the target.
	Login string
	// ForceCommand, when set, goes into certificates as force-command.
	// With AllowedCommands it is always set, to the command gate's path
	// (the role's, or Settings.CommandGate), and the certificate's
	// force-command is the gate followed by the patterns.
	ForceCommand string
	MaxDuration  time.Duration
	// Interactive permits a PTY and a shell. Never set together with
	// AllowedCommands: a shell, or a pager's "!sh", escapes them.
	Interactive    bool
	TicketRequired bool
	// AllowedCommands are patterns for MatchCommand; empty allows any command.
	AllowedCommands []string
	// StepUpMFA asks for a fresh TOTP code, given once, to fetch a grant
	// certificate and to approve a request for this role (step-up MFA at
	// activation, as Azure PIM asks for MFA on activation).
	StepUpMFA bool
	// SilentWatch keeps the line that tells a user of this role who
	// watches their session live (shown by default) from being shown.
	SilentWatch bool
	Approval    Approval
}

// Approval is an approval rule. A role's rule is either Auto or a non-empty
// Require list; a resource's extra rule is never Auto.
type Approval struct {
	Auto    bool
	Require []Requirement
	// EscalateAfter and EscalateTo, set together or not at all: when a
	// requirement of this rule is still unmet EscalateAfter after the
	// request was made, members of group EscalateTo may fill it too.
	EscalateAfter time.Duration
	EscalateTo    string
}

// Requirement asks for Count distinct approvers who are members of Group, or
// (when Managers is set) managers of a team the requester is a member of.
// Exactly one of Group and Managers is set.
//
// EscalateAfter and EscalateTo come from the requirement's rule (see
// Approval). Escalated is set by Escalate once the escalation happened:
// members of EscalateTo then fill the requirement as well.
type Requirement struct {
	Group         string        `json:"group,omitempty"`
	Managers      bool          `json:"managers,omitempty"`
	Count         int           `json:"count"`
	EscalateAfter time.Duration `json:"escalate_after,omitempty"`
	EscalateTo    string        `json:"escalate_to,omitempty"`
	Escalated     bool          `json:"escalated,omitempty"`
}

// Resource is a target host.
type Resource struct {
	Name        string
	Description string
	// Address is host:port.
	Address string
	Tags    []string // sorted
	// HostKey is the pinned host key, or nil when the host CA is trusted.
	HostKey ssh.PublicKey
	// Approval is the resource's extra rule (Customer Lockbox); its Require
	// list is empty when the resource adds nothing.
	Approval Approval
	// PendingTimeout, when set, is how long a request naming this resource
	// may wait for a decision, if shorter than the CA's pending timeout
	// (Customer Lockbox gives customers 12 hours).
	PendingTimeout time.Duration
}

// Bastion is a registered bastion: it may ask the CA for hop certificates.
type Bastion struct {
	Name string
	Keys []ssh.PublicKey
	// Egress are the bastion's egress addresses, used as source-address in
	// hop certificates.
	Egress []netip.Prefix
}
