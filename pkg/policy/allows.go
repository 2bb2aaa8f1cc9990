package policy

// Mark flags what deserves a second look before approving. The values
// are stable: the API and the webhook carry them.
type Mark string

// The marks Allows sets.
const (
	// MarkRootLogin: the role logs in as root on the target.
	MarkRootLogin Mark = "root_login"
	// MarkInteractive: the role gives a shell on a terminal.
	MarkInteractive Mark = "interactive"
	// MarkCustomerData: a resource has its own approval rule, which is
	// how the policy marks customer data (Customer Lockbox).
	MarkCustomerData Mark = "customer_data"
)

// Describe names the mark for people.
func (m Mark) Describe() string {
	switch m {
	case MarkRootLogin:
		return "root login"
	case MarkInteractive:
		return "interactive shell"
	case MarkCustomerData:
		return "customer data"
	}
	return string(m)
}

// Allowance is what a grant of a role on resources lets its holder do,
// as the policy says now: what an approver reads before saying yes.
type Allowance struct {
	// Role is the policy's role (login, interactive, allowed commands,
	// maximum duration, force-command); nil when the policy no longer
	// has it. Callers must not modify it.
	Role *Role
	// Resources are the policy's resources, in the order asked; those the
	// policy no longer has are in Missing instead.
	Resources []*Resource
	Missing   []string
	// Marks are in the order of the constants above.
	Marks []Mark
}

// Allows describes what role on resources gives under p.
func (p *Policy) Allows(role string, resources []string) Allowance {
	a := Allowance{Role: p.Roles[role]}
	for _, name := range resources {
		if r := p.Resources[name]; r != nil {
			a.Resources = append(a.Resources, r)
		} else {
			a.Missing = append(a.Missing, name)
		}
	}
	if a.Role != nil && a.Role.Login == "root" {
		a.Marks = append(a.Marks, MarkRootLogin)
	}
	if a.Role != nil && a.Role.Interactive {
		a.Marks = append(a.Marks, MarkInteractive)
	}
	if len(a.CustomerData()) > 0 {
		a.Marks = append(a.Marks, MarkCustomerData)
	}
	return a
}

// CustomerData names the resources with their own approval rule.
func (a Allowance) CustomerData() []string {
	var out []string
	for _, r := range a.Resources {
		if r.OwnApproval() {
			out = append(out, r.Name)
		}
	}
	return out
}

// OwnApproval reports whether the resource adds its own approval rule.
func (r *Resource) OwnApproval() bool { return len(r.Approval.Require) > 0 }
