package wire

import "time"

// Need is an approval a pending request still needs, with who can give
// it: "1 of carol, dave: managers of storage".
type Need struct {
	// Count is how many more approvals of this kind are needed.
	Count int `json:"count"`
	// Label names whom the rule asks: "managers of storage", "group
	// security".
	Label string `json:"label"`
	// Of are the people whose approval now would fill one of them, sorted;
	// never the requester nor anyone who approved already. Empty when
	// nobody in the policy can.
	Of []string `json:"of"`
	// You: the caller is among Of and may approve now.
	You bool `json:"you,omitempty"`
	// Group or Managers: the requirement as the policy writes it.
	Group    string `json:"group,omitempty"`
	Managers bool   `json:"managers,omitempty"`
}

// Allows is what a grant lets its holder do, under the current policy.
type Allows struct {
	Role      Role       `json:"role"`
	Resources []Resource `json:"resources"`
	// Marks flag what deserves a second look: "root_login",
	// "interactive", "customer_data" (a resource with its own approval
	// rule).
	Marks []string `json:"marks"`
}

// Role is a role as the policy defines it. Name alone (the rest empty)
// when the policy no longer has it.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Login is the account on the target.
	Login string `json:"login"`
	// Interactive: a shell on a terminal is allowed.
	Interactive bool `json:"interactive"`
	// AllowedCommands are the command patterns; empty means any command.
	AllowedCommands []string `json:"allowed_commands"`
	MaxDuration     string   `json:"max_duration"` // Go duration
	ForceCommand    string   `json:"force_command,omitempty"`
}

// Resource is a target as the policy describes it.
type Resource struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// OwnApproval: the resource adds its own approval rule (customer
	// data).
	OwnApproval bool `json:"own_approval,omitempty"`
	// Missing: the policy no longer has this resource.
	Missing bool `json:"missing,omitempty"`
}

// Window is a grant's validity, [not_before, not_after). For a pending
// request, if_approved_now marks the window it would have if approved at
// the moment of the answer.
type Window struct {
	NotBefore     time.Time `json:"not_before"`
	NotAfter      time.Time `json:"not_after"`
	IfApprovedNow bool      `json:"if_approved_now,omitempty"`
}
