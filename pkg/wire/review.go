package wire

import "time"

// Review is the answer of GET /v1/review: an access review of the teams
// the caller may review (managers: their teams; auditors: all).
type Review struct {
	At time.Time `json:"at"`
	// Unused is the period (a Go duration) after which something not
	// used counts as unused.
	Unused  string          `json:"unused"`
	Entries []ReviewEntry   `json:"entries"`
	Endings []ReviewEnding  `json:"endings"`
	Stale   []ReviewVerdict `json:"stale"`
}

// ReviewEntry is one team membership under review.
type ReviewEntry struct {
	User string `json:"user"`
	Team string `json:"team"`
	// From and Until are the membership's dates as the policy writes
	// them; empty when open.
	From          string         `json:"from,omitempty"`
	Until         string         `json:"until,omitempty"`
	Managers      []string       `json:"managers"`
	LastRequested *time.Time     `json:"last_requested,omitempty"`
	LastUsed      *time.Time     `json:"last_used,omitempty"`
	Unused        bool           `json:"unused"`
	Grants        []ReviewGrant  `json:"grants"`
	Decision      *ReviewVerdict `json:"decision,omitempty"`
}

// ReviewGrant is one role on one resource a membership lets its person
// request.
type ReviewGrant struct {
	Role          string     `json:"role"`
	Resource      string     `json:"resource"`
	From          string     `json:"from,omitempty"`
	Until         string     `json:"until,omitempty"`
	InEffect      bool       `json:"in_effect"`
	LastRequested *time.Time `json:"last_requested,omitempty"`
	LastUsed      *time.Time `json:"last_used,omitempty"`
	Unused        bool       `json:"unused"`
}

// ReviewEnding is a dated membership (Member set) or eligibility entry
// that ends soon.
type ReviewEnding struct {
	Team      string    `json:"team"`
	Member    string    `json:"member,omitempty"`
	Roles     []string  `json:"roles"`
	Resources []string  `json:"resources"`
	Until     time.Time `json:"until"` // the first instant no longer in effect
	Ends      string    `json:"ends"`  // for people: "on 2026-11-30", "at 2026-11-30T18:00:00Z"
	People    []string  `json:"people"`
	Managers  []string  `json:"managers"`
}

// ReviewVerdict is a standing review decision.
type ReviewVerdict struct {
	User     string    `json:"user"`
	Team     string    `json:"team"`
	Decision string    `json:"decision"` // keep or remove
	Reason   string    `json:"reason"`
	Reviewer string    `json:"reviewer"`
	At       time.Time `json:"at"`
	// InPolicy, in an export: the policy still lists the membership.
	InPolicy *bool `json:"in_policy,omitempty"`
}

// ReviewDecide is the body of POST /v1/review/decisions.
type ReviewDecide struct {
	Team     string `json:"team"`
	User     string `json:"user"`
	Decision string `json:"decision"` // keep or remove
	Reason   string `json:"reason"`
}

// ReviewMembership names a membership.
type ReviewMembership struct {
	Team string `json:"team"`
	User string `json:"user"`
}

// ReviewExport is the answer of GET /v1/review/export.
type ReviewExport struct {
	At        time.Time          `json:"at"`
	Decisions []ReviewVerdict    `json:"decisions"`
	Removed   []ReviewMembership `json:"removed"`
	// Patch is a unified diff of the policy files (a/NAME, b/NAME) that
	// removes exactly Removed; empty when nothing is to be removed.
	Patch string `json:"patch"`
}
