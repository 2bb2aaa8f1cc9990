package workflow_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// provision creates the directory user name, active.
func (e *env) provision(svc *workflow.Service, name string) *store.DirectoryUser {
	e.t.Helper()
	u, err := svc.CreateDirectoryUser(ctx, store.DirectoryUser{UserName: name, Active: true})
	if err != nil {
		e.t.Fatalf("provisioning %s: %v", name, err)
	}
	return u
}

func deactivate(u *store.DirectoryUser) error { u.Active = false; return nil }

// holdings gives alice everything deprovisioning must take: a pending
// request, a live grant with a certificate and an open session on a
// bastion, and a web session.
type holdings struct {
	pending, grant, session, webToken, otpURI string
	serial                                    uint64
}

func (e *env) giveAliceEverything() holdings {
	e.t.Helper()
	var h holdings
	h.pending = e.submit("alice", "reader", []string{"db-1"}, time.Hour, "").ID
	h.grant = e.submit("alice", "health", []string{"db-1"}, time.Hour, "").ID
	c, err := e.svc.IssueUserCert(ctx, user("alice"), h.grant, newPublicKey(e.t), workflow.StepUp{})
	if err != nil {
		e.t.Fatal(err)
	}
	h.serial = c.Serial
	g, err := e.startSession("alice", h.grant, "db-1")
	if err != nil {
		e.t.Fatal(err)
	}
	h.session = g.Session.ID
	uri := webPerson(e.t, e, "alice")
	l, err := login(e, "alice", "long enough password", codeFromURI(e.t, uri, e.clock.Now()), "192.0.2.1")
	if err != nil {
		e.t.Fatal(err)
	}
	h.webToken, h.otpURI = l.Token, uri
	return h
}

// checkAllTaken fails the test unless alice lost everything h holds,
// with reason, and the deprovisioning is audited.
func (e *env) checkAllTaken(h holdings, by, reason string) {
	t := e.t
	t.Helper()
	if r := e.request(h.pending); r.State != store.Denied || r.DecidedBy != by || r.Decision != reason {
		t.Errorf("pending request: %s by %s (%q), want denied by %s (%q)", r.State, r.DecidedBy, r.Decision, by, reason)
	}
	if r := e.request(h.grant); r.State != store.Revoked || r.DecidedBy != by {
		t.Errorf("grant: %s by %s, want revoked by %s", r.State, r.DecidedBy, by)
	}
	var serials []uint64
	if err := e.st.View(ctx, func(tx store.Tx) (err error) {
		serials, err = tx.RevokedSerials(store.UserCert, e.clock.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(serials, h.serial) {
		t.Errorf("the grant's certificate %d is not in the KRL's serials %v", h.serial, serials)
	}
	st, err := e.svc.Heartbeat(ctx, bastion, []string{h.session})
	if err != nil {
		t.Fatal(err)
	}
	if want := "grant revoked by " + by + ": " + reason; st[h.session].Live || st[h.session].Reason != want {
		t.Errorf("heartbeat: %+v, want not live with %q", st[h.session], want)
	}
	if _, err := e.svc.WebSession(ctx, h.webToken, time.Minute); !errors.Is(err, workflow.ErrWebSession) {
		t.Errorf("web session: %v, want it ended", err)
	}
	d := e.auditDetail("alice", workflow.ActionDeprovisioned)
	if d["reason"] != reason || d["by"] != by || !strings.Contains(strings.Join(toStrings(d["revoked"]), ","), h.grant) ||
		!strings.Contains(strings.Join(toStrings(d["withdrawn"]), ","), h.pending) || !strings.Contains(strings.Join(toStrings(d["sessions"]), ","), h.session) {
		t.Errorf("audit of the deprovisioning: %v", d)
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// A person the directory deactivates loses everything in one change:
// the pending request is withdrawn, the grant revoked into the KRL, the
// bastion's heartbeat ends the session with the reason, the web session
// is gone; and while inactive every new call and login is refused.
func TestDeactivationInTheDirectoryTakesEverythingAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	u := e.provision(e.svc, "alice")
	h := e.giveAliceEverything()
	if _, err := e.svc.ChangeDirectoryUser(ctx, u.ID, deactivate); err != nil {
		t.Fatal(err)
	}
	e.checkAllTaken(h, workflow.ByDirectory, "deactivated in the directory")

	requireErr(t, e.svc.CheckActive(ctx, user("alice")), workflow.ErrDeactivated)
	_, err := e.svc.Submit(ctx, user("alice"), workflow.Submission{Role: "health", Resources: []string{"db-1"}, Duration: time.Hour, Reason: "again"})
	requireErr(t, err, workflow.ErrDeactivated)
	e.clock.Advance(time.Minute) // a fresh TOTP step
	_, err = login(e, "alice", "long enough password", codeFromURI(t, h.otpURI, e.clock.Now()), "192.0.2.1")
	requireErr(t, err, workflow.ErrDeactivated)
	if err := e.svc.CheckActive(ctx, user("bob")); err != nil {
		t.Fatalf("bob, whom the directory never provisioned, is refused: %v", err)
	}
	// Reactivated, alice may ask again; nothing comes back by itself.
	if _, err := e.svc.ChangeDirectoryUser(ctx, u.ID, func(u *store.DirectoryUser) error { u.Active = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckActive(ctx, user("alice")); err != nil {
		t.Fatalf("reactivated: %v", err)
	}
	if r := e.request(h.grant); r.State != store.Revoked {
		t.Fatalf("the grant came back: %s", r.State)
	}
}

// A person the directory deletes loses everything too, and stays
// refused: the deletion leaves a tombstone, not an absence.
func TestDeletionFromTheDirectoryTakesEverythingAndStaysRefused(t *testing.T) {
	e := newEnv(t, nil)
	u := e.provision(e.svc, "alice")
	h := e.giveAliceEverything()
	if err := e.svc.DeleteDirectoryUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	e.checkAllTaken(h, workflow.ByDirectory, "deleted from the directory")
	requireErr(t, e.svc.CheckActive(ctx, user("alice")), workflow.ErrDeactivated)
	if _, err := e.svc.DirectoryUser(ctx, u.ID); !errors.Is(err, workflow.ErrNoDirectoryEntry) {
		t.Fatalf("a deleted user is still visible: %v", err)
	}
	again := e.provision(e.svc, "alice")
	if again.ID == u.ID || e.svc.CheckActive(ctx, user("alice")) != nil {
		t.Fatalf("created again: %+v", again)
	}
}

// A person removed from the policy on reload loses everything, as from
// the directory; someone the new policy still has keeps what they hold.
func TestPolicyReloadRemovingAPersonTakesEverything(t *testing.T) {
	e := newEnv(t, nil)
	h := e.giveAliceEverything()
	bobs := e.submit("bob", "health", []string{"db-1"}, time.Hour, "").ID
	old := e.holder.Get()
	e.changePolicy(func(p *policy.Policy) { delete(p.Users, "alice") })
	done, err := e.svc.DeprovisionRemoved(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].User != "alice" {
		t.Fatalf("deprovisioned %+v, want alice only", done)
	}
	e.checkAllTaken(h, workflow.ByPolicy, "removed from the policy")
	if r := e.request(bobs); r.State != store.Approved {
		t.Fatalf("bob's grant: %s", r.State)
	}
	// At start, with no policy to compare, whoever holds a grant but is
	// not in the policy is found from the store.
	e.changePolicy(func(p *policy.Policy) { delete(p.Users, "bob") })
	done, err = e.svc.DeprovisionRemoved(ctx, nil)
	if err != nil || len(done) != 1 || done[0].User != "bob" {
		t.Fatalf("at start: %+v, %v", done, err)
	}
}

// Approver rights follow the directory: a group bound to a directory
// group takes its members from SCIM pushes, and loses them when the
// directory removes them, at once, also through another replica.
func TestDirectoryGroupMembershipGivesAndTakesApproverRights(t *testing.T) {
	onEngines(t, func(t *testing.T, e *env, replica *workflow.Service) {
		e.changePolicy(func(p *policy.Policy) {
			g := *p.Groups["security"]
			g.IDPGroup = "Security Team"
			p.Groups["security"] = &g
		})
		bob := e.provision(e.svc, "dave")
		first := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-1")
		e.approve("carol", first.ID)
		_, err := e.svc.Approve(ctx, user("dave"), first.ID, "ok")
		requireErr(t, err, policy.ErrNotApprover)
		g, err := e.svc.CreateDirectoryGroup(ctx, store.DirectoryGroup{DisplayName: "security team", Members: []string{bob.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if r := e.approve("dave", first.ID); r.State != store.Approved {
			t.Fatalf("dave, in the directory's Security Team: %s, want approved", r.State)
		}
		second := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-2")
		e.approve("carol", second.ID)
		// The replica removes dave; this service has not read the change
		// yet, but the approval reads the membership in its transaction.
		if _, err := replica.ChangeDirectoryGroup(ctx, g.ID, func(g *store.DirectoryGroup) error { g.Members = nil; return nil }); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Approve(ctx, user("dave"), second.ID, "ok")
		requireErr(t, err, policy.ErrNotApprover)
		acts := e.actions("security team")
		if len(acts) != 2 || acts[0] != "directory.group.created" || acts[1] != "directory.group.changed" {
			t.Fatalf("audit of the group: %v", acts)
		}
	})
}
