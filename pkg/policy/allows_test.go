package policy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestAllowsShowsWhatAGrantGivesWithItsMarks: the role's login, shell,
// commands, maximum and force-command, each resource's description and
// tags, and marks for a root login, an interactive shell and customer data
// (a resource with its own approval rule).
func TestAllowsShowsWhatAGrantGivesWithItsMarks(t *testing.T) {
	p := examplePolicy(t, nil)
	tests := []struct {
		name      string
		role      string
		resources []string
		marks     []Mark
		customer  []string
	}{
		{"a root shell is marked twice", "admin", []string{"db-1"}, []Mark{MarkRootLogin, MarkInteractive}, nil},
		{"read-only commands carry no mark", "reader", []string{"db-1", "db-2"}, nil, nil},
		{"customer data is marked with its resource", "reader", []string{"db-1", "customer-db"}, []Mark{MarkCustomerData}, []string{"customer-db"}},
		{"every mark at once", "admin", []string{"customer-db"}, []Mark{MarkRootLogin, MarkInteractive, MarkCustomerData}, []string{"customer-db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := p.Allows(tt.role, tt.resources)
			if a.Role != p.Roles[tt.role] {
				t.Fatalf("role %+v, want the policy's %s", a.Role, tt.role)
			}
			var names []string
			for _, r := range a.Resources {
				names = append(names, r.Name)
			}
			if diff := cmp.Diff(tt.resources, names); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.marks, a.Marks, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("marks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.customer, a.CustomerData(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("customer data (-want +got):\n%s", diff)
			}
		})
	}
	a := p.Allows("reader", []string{"customer-db"})
	r, res := a.Role, a.Resources[0]
	if r.Login != "ops" || r.Interactive || r.ForceCommand != "/usr/local/bin/lockbox-gate" || r.MaxDuration != 4*time.Hour ||
		len(r.AllowedCommands) == 0 || r.AllowedCommands[0] != "systemctl status *" {
		t.Errorf("reader allows %+v", r)
	}
	if res.Description != "Contoso tenant database" || !cmp.Equal(res.Tags, []string{"storage", "customer"}) || !res.OwnApproval() {
		t.Errorf("customer-db is shown as %+v", res)
	}
}

// TestAllowsWhatThePolicyNoLongerHas: a role or resource removed since
// the request was made shows as missing, never as something it allows.
func TestAllowsWhatThePolicyNoLongerHas(t *testing.T) {
	p := examplePolicy(t, nil)
	a := p.Allows("god", []string{"db-1", "db-9"})
	if a.Role != nil || len(a.Resources) != 1 || a.Resources[0].Name != "db-1" || !cmp.Equal(a.Missing, []string{"db-9"}) {
		t.Fatalf("Allows of a removed role and resource = %+v", a)
	}
	if len(a.Marks) != 0 {
		t.Errorf("marks %v for a role that does not exist", a.Marks)
	}
}

func TestMarksDescribeThemselves(t *testing.T) {
	for m, want := range map[Mark]string{MarkRootLogin: "root login", MarkInteractive: "interactive shell", MarkCustomerData: "customer data"} {
		if got := m.Describe(); got != want {
			t.Errorf("%s describes itself as %q, want %q", m, got, want)
		}
	}
}
