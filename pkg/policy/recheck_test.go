package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A request accepted under one policy is checked again, at approval and at
// issuance, under the policy of that moment; a refusal says what no longer
// holds.
func TestRecheckSaysWhatNoLongerHolds(t *testing.T) {
	req := Request{User: "alice", Role: "admin", Resources: []string{"db-1", "db-2"}, Duration: 2 * time.Hour, Reason: "disk alert", Ticket: "INC-1"}
	tests := []struct {
		name   string
		change func(p *Policy)
		want   error
		says   string
	}{
		{"nothing changed", func(*Policy) {}, nil, ""},
		{"the team changed but still lists the role", func(p *Policy) { p.Teams["storage"].Description = "renamed" }, nil, ""},
		{"the requester left her team", func(p *Policy) { p.Teams["storage"].Members = []string{"bob"} },
			ErrOutOfScope, "alice is no longer in a team eligible for admin on db-1"},
		{"the team no longer lists the role", func(p *Policy) { p.Teams["storage"].Eligible[0].Roles = []string{"reader"} },
			ErrOutOfScope, "alice is no longer in a team eligible for admin on db-1"},
		{"one resource lost its tag", func(p *Policy) { p.Resources["db-2"].Tags = []string{"prod"} },
			ErrOutOfScope, "alice is no longer in a team eligible for admin on db-2"},
		{"the requester left the policy", func(p *Policy) { delete(p.Users, "alice") },
			ErrUnknownUser, "alice is no longer a user in the policy"},
		{"the role was removed", func(p *Policy) { delete(p.Roles, "admin") },
			ErrUnknownRole, "role admin no longer exists"},
		{"a resource was removed", func(p *Policy) { delete(p.Resources, "db-2") },
			ErrUnknownResource, "resource db-2 no longer exists"},
		{"the role's maximum was lowered", func(p *Policy) { p.Roles["admin"].MaxDuration = time.Hour },
			ErrOverMaxDuration, "2h0m0s is over role admin's max_duration of 1h0m0s (now)"},
		{"the maximum equals the duration", func(p *Policy) { p.Roles["admin"].MaxDuration = 2 * time.Hour }, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := examplePolicy(t, nil)
			tc.change(p)
			err := p.Recheck(req, time.Now())
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Recheck = %v, want %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Recheck = %q, want it to say %q", err, tc.says)
			}
		})
	}
	t.Run("a role that now needs a ticket", func(t *testing.T) {
		p := examplePolicy(t, nil)
		r := req
		r.Role, r.Ticket, r.Duration = "reader", "", time.Hour
		p.Roles["reader"].TicketRequired = true
		if err := p.Recheck(r, time.Now()); !errors.Is(err, ErrTicketRequired) || !strings.Contains(err.Error(), "role reader now needs a ticket") {
			t.Fatalf("Recheck = %v, want ErrTicketRequired saying the role now needs one", err)
		}
	})
}

func TestCheckActiveAtTheLimit(t *testing.T) {
	p := examplePolicy(t, nil) // max_active_grants_per_user: 3
	for active, want := range map[int]error{0: nil, 2: nil, 3: ErrTooManyActive, 4: ErrTooManyActive} {
		err := p.CheckActive("alice", active)
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("CheckActive(alice, %d) = %v, want %v", active, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "the limit is 3") {
			t.Errorf("CheckActive(alice, %d) = %q does not name the limit", active, err)
		}
	}
}
