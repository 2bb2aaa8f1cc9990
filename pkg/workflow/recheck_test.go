package workflow_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func openMySQL(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := sqlstore.OpenMySQL(dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// onEngines runs fn on a fresh env over each store engine, with a second
// service as another CA replica would run: on MySQL with its own
// connection pool to the same database (a missing server skips, or fails
// under LOCKBOX_REQUIRE_INTEGRATION=1); SQLite has one process.
func onEngines(t *testing.T, fn func(t *testing.T, e *env, replica *workflow.Service)) {
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t, nil)
		fn(t, e, e.service(e.st))
	})
	t.Run("mysql", func(t *testing.T) {
		dsn := storetest.MySQLDSN(t)
		e := newEnv(t, openMySQL(t, dsn))
		fn(t, e, e.service(openMySQL(t, dsn)))
	})
}

func (e *env) countActive(who string) int {
	e.t.Helper()
	var active int
	if err := e.st.View(ctx, func(tx store.Tx) (err error) { _, active, err = tx.CountOpen(who, e.clock.Now()); return err }); err != nil {
		e.t.Fatal(err)
	}
	return active
}

func (e *env) approvals(id string) []store.Approval {
	e.t.Helper()
	var as []store.Approval
	if err := e.st.View(ctx, func(tx store.Tx) (err error) { as, err = tx.Approvals(id); return err }); err != nil {
		e.t.Fatal(err)
	}
	return as
}

// changePolicy makes a changed copy of the example policy current, as a
// reload would.
func (e *env) changePolicy(change func(p *policy.Policy)) {
	p := examplePolicy(e.t)
	change(p)
	e.holder.Set(p)
}

// With max_active_grants_per_user: 3, four pending requests approved one
// after another give three grants: the approval that would start a fourth
// is refused, audited, and records nothing; once a grant ends it succeeds.
func TestApprovalThatWouldExceedActiveGrantsIsRefused(t *testing.T) {
	onEngines(t, func(t *testing.T, e *env, _ *workflow.Service) {
		var ids []string
		for range 4 {
			ids = append(ids, e.submit("alice", "reader", []string{"db-1"}, time.Hour, "").ID)
		}
		for _, id := range ids[:3] {
			if got := e.approve("carol", id); got.State != store.Approved {
				t.Fatalf("%s: %s, want approved", id, got.State)
			}
		}
		_, err := e.svc.Approve(ctx, user("carol"), ids[3], "ok")
		requireErr(t, err, policy.ErrTooManyActive)
		if !strings.Contains(err.Error(), "alice has 3 active grants, the limit is 3") {
			t.Fatalf("refusal %q does not say why", err)
		}
		if n := e.countActive("alice"); n != 3 {
			t.Fatalf("alice has %d active grants, want 3", n)
		}
		if got := e.request(ids[3]); got.State != store.Pending || len(e.approvals(ids[3])) != 0 {
			t.Fatalf("the refused approval left the request %s with %d approvals, want pending with none", got.State, len(e.approvals(ids[3])))
		}
		if acts := e.actions(ids[3]); acts[len(acts)-1] != "approval.refused" {
			t.Fatalf("refusal not audited: %v", acts)
		}
		if _, err := e.svc.Revoke(ctx, user("alice"), ids[0], "done"); err != nil {
			t.Fatal(err)
		}
		if got := e.approve("carol", ids[3]); got.State != store.Approved {
			t.Fatalf("after a grant ended: %s, want approved", got.State)
		}
	})
}

// An approval that leaves others outstanding starts no grant, so the limit
// does not stop it; the one that completes the request is refused.
func TestOnlyTheApprovalThatStartsTheGrantChecksTheLimit(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-7")
	for range 3 {
		e.submit("alice", "health", []string{"db-1"}, time.Hour, "") // auto-approved
	}
	if got := e.approve("carol", admin.ID); got.State != store.Pending {
		t.Fatalf("after the manager: %s", got.State)
	}
	_, err := e.svc.Approve(ctx, user("frank"), admin.ID, "ok")
	requireErr(t, err, policy.ErrTooManyActive)
	if as := e.approvals(admin.ID); len(as) != 1 || as[0].Approver != "carol" {
		t.Fatalf("approvals %+v, want carol's alone", as)
	}
}

// Racing approvals of one user's requests, on two replicas sharing the
// database, never give more grants than the limit: the count and the
// transition commit in one transaction.
func TestRacingApprovalsNeverExceedTheActiveLimit(t *testing.T) {
	onEngines(t, func(t *testing.T, e *env, replica *workflow.Service) {
		for round := range 3 {
			var ids []string
			for range 4 {
				ids = append(ids, e.submit("alice", "reader", []string{"db-1"}, time.Hour, "").ID)
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(ids))
			for i, id := range ids {
				svc := e.svc
				if i%2 == 1 {
					svc = replica
				}
				wg.Go(func() {
					_, err := svc.Approve(ctx, user("carol"), id, "ok")
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			refused := 0
			for err := range errs {
				switch {
				case err == nil:
				case errors.Is(err, policy.ErrTooManyActive):
					refused++
				default:
					t.Fatalf("approve: %v", err)
				}
			}
			if n := e.countActive("alice"); n != 3 || refused != 1 {
				t.Fatalf("round %d: %d active grants and %d refusals, want 3 and 1", round, n, refused)
			}
			for _, id := range ids {
				if e.request(id).State == store.Approved {
					if _, err := e.svc.Revoke(ctx, user("alice"), id, "next round"); err != nil {
						t.Fatal(err)
					}
				} else if _, err := e.svc.Deny(ctx, user("alice"), id, "next round"); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// After a policy reload, an approval evaluates the request against the
// policy as it is now, and a refusal says what changed.
func TestApprovalUnderAChangedPolicyIsRefusedWithWhatChanged(t *testing.T) {
	tests := []struct {
		name     string
		role     string
		duration time.Duration
		ticket   string
		change   func(p *policy.Policy)
		want     error
		says     string
	}{
		{"the requester left her team", "reader", time.Hour, "", func(p *policy.Policy) { p.Teams["storage"].Members = []string{"bob"} },
			policy.ErrOutOfScope, "alice is no longer in a team eligible for reader on db-1"},
		{"the role was removed", "reader", time.Hour, "", func(p *policy.Policy) {
			delete(p.Roles, "reader")
			for _, t := range p.Teams {
				for i := range t.Eligible {
					t.Eligible[i].Roles = []string{"admin", "health"}
				}
			}
		}, policy.ErrUnknownRole, "role reader no longer exists"},
		{"the role's maximum was lowered under the request", "admin", 2 * time.Hour, "INC-7", func(p *policy.Policy) { p.Roles["admin"].MaxDuration = 30 * time.Minute },
			policy.ErrOverMaxDuration, "over role admin's max_duration of 30m0s (now)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			onEngines(t, func(t *testing.T, e *env, _ *workflow.Service) {
				r := e.submit("alice", tc.role, []string{"db-1"}, tc.duration, tc.ticket)
				e.changePolicy(tc.change)
				_, err := e.svc.Approve(ctx, user("carol"), r.ID, "ok")
				requireErr(t, err, tc.want)
				if !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("refusal %q does not say %q", err, tc.says)
				}
				if got := e.request(r.ID); got.State != store.Pending || len(e.approvals(r.ID)) != 0 {
					t.Fatalf("after the refusal: %s with %d approvals, want pending with none", got.State, len(e.approvals(r.ID)))
				}
				rows := e.auditRows()
				last := rows[len(rows)-1]
				if last.Action != "approval.refused" || !strings.Contains(string(last.Detail), tc.says) {
					t.Fatalf("last audit row %s %s, want approval.refused with the reason", last.Action, last.Detail)
				}
			})
		})
	}
}

// A grant's certificates, grant and hop, are issued only while the grant
// still fits the current policy.
func TestCertificatesOfAGrantThatNoLongerFitsAreRefused(t *testing.T) {
	bastion := workflow.BastionActor("bastion-1")
	tests := []struct {
		name   string
		change func(p *policy.Policy)
		want   error
		says   string
	}{
		{"the requester left her team", func(p *policy.Policy) { p.Teams["storage"].Members = []string{"bob"} },
			policy.ErrOutOfScope, "alice is no longer in a team eligible for health on db-1"},
		{"the role's maximum is now below the grant", func(p *policy.Policy) { p.Roles["health"].MaxDuration = 30 * time.Minute },
			policy.ErrOverMaxDuration, "over role health's max_duration of 30m0s (now)"},
		{"the resource was removed", func(p *policy.Policy) {
			delete(p.Resources, "db-1")
		}, policy.ErrUnknownResource, "resource db-1 no longer exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			g := e.submit("alice", "health", []string{"db-1"}, time.Hour, "") // auto-approved
			if _, err := e.svc.IssueUserCert(ctx, user("alice"), g.ID, newPublicKey(t), workflow.StepUp{}); err != nil {
				t.Fatalf("before the change: %v", err)
			}
			e.changePolicy(tc.change)
			_, err := e.svc.IssueUserCert(ctx, user("alice"), g.ID, newPublicKey(t), workflow.StepUp{})
			requireErr(t, err, tc.want)
			_, herr := e.svc.IssueHopCert(ctx, bastion, g.ID, "db-1", newPublicKey(t))
			requireErr(t, herr, tc.want)
			if !strings.Contains(err.Error(), tc.says) || !strings.Contains(herr.Error(), tc.says) {
				t.Fatalf("refusals %q and %q do not say %q", err, herr, tc.says)
			}
			want := []string{"request.submitted", "request.approved", "usercert.issued", "cert.refused", "hopcert.refused"}
			if got := e.actions(g.ID); !slices.Equal(got, want) {
				t.Fatalf("audit %v, want %v", got, want)
			}
		})
	}
}

// A grant that no longer fits the policy opens no session either: the
// bastion's check before the code and the session start both refuse with
// what changed, and no lease is taken.
func TestSessionsOfAGrantThatNoLongerFitsAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	g := e.submit("alice", "health", []string{"db-1"}, time.Hour, "") // auto-approved
	e.changePolicy(func(p *policy.Policy) { p.Teams["storage"].Members = []string{"bob"} })
	const says = "alice is no longer in a team eligible for health on db-1"
	err := e.svc.CheckSession(ctx, bastion, workflow.SessionCheck{RequestID: g.ID, Resource: "db-1", User: "alice", ClientAddr: "127.0.0.1:5555"})
	requireErr(t, err, policy.ErrOutOfScope)
	_, serr := e.startSession("alice", g.ID, "db-1")
	requireErr(t, serr, policy.ErrOutOfScope)
	if !strings.Contains(err.Error(), says) || !strings.Contains(serr.Error(), says) {
		t.Fatalf("refusals %q and %q do not say %q", err, serr, says)
	}
	e.changePolicy(func(p *policy.Policy) { p.Teams["storage"].Members = []string{"alice", "bob"} })
	if _, err := e.startSession("alice", g.ID, "db-1"); err != nil {
		t.Fatalf("the refused start took the lease, or the grant fits again and is still refused: %v", err)
	}
}
