package workflow_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func ssoIn(who string, mfa bool, groups ...string) workflow.SSOLoginInput {
	return workflow.SSOLoginInput{User: who, Issuer: "https://idp.example", Subject: "sub-" + who, Groups: groups, MFA: mfa,
		AMR: []string{"pwd"}, Addr: "192.0.2.1", Idle: 10 * time.Minute, Absolute: time.Hour}
}

// lastAudit returns the newest audit row with action.
func (e *env) lastAudit(action string) map[string]any {
	e.t.Helper()
	rows := e.auditRows()
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Action == action {
			var d map[string]any
			if err := json.Unmarshal(rows[i].Detail, &d); err != nil {
				e.t.Fatal(err)
			}
			return d
		}
	}
	e.t.Fatalf("no %s in the audit", action)
	return nil
}

func TestSSOForSomeoneThePolicyDoesNotKnowIsRefusedAndAudited(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.SSOLogin(ctx, ssoIn("mallory", true))
	requireErr(t, err, workflow.ErrSSOUnknownUser)
	if acts := e.actions("mallory"); len(acts) != 1 || acts[0] != "web.login.refused" {
		t.Fatalf("audit: %v", acts)
	}
	if d := e.lastAudit("web.login.refused"); d["method"] != "oidc" || !strings.Contains(d["reason"].(string), "does not know") {
		t.Fatalf("detail %v", d)
	}
}

func TestSSOWithTrustedProviderMFAOpensASessionAndRecordsTheTokensGroups(t *testing.T) {
	e := newEnv(t, nil)
	e.changePolicy(func(p *policy.Policy) {
		g := *p.Groups["security"]
		g.IDPGroup = "Security Team"
		p.Groups["security"] = &g
	})
	l, err := e.svc.SSOLogin(ctx, ssoIn("dave", true, "Security Team"))
	if err != nil {
		t.Fatal(err)
	}
	if l.WebLogin == nil || l.Pending != "" || l.Session.User != "dave" {
		t.Fatalf("login %+v", l)
	}
	if _, err := e.svc.WebSession(ctx, l.Token, time.Minute); err != nil {
		t.Fatalf("session: %v", err)
	}
	var rows []store.DirectoryMembership
	if err := e.st.View(ctx, func(tx store.Tx) (err error) { rows, err = tx.DirectoryMemberships(); return err }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].User != "dave" || rows[0].Group != "Security Team" || rows[0].Source != store.SourceOIDC {
		t.Fatalf("memberships %+v", rows)
	}
	// The group from the token makes dave a security approver at once.
	r := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-1")
	e.approve("carol", r.ID)
	if got := e.approve("dave", r.ID); got.State != store.Approved {
		t.Fatalf("dave, in Security Team by the ID token: %s, want approved", got.State)
	}
	// The next sign-in without the group takes it away.
	if _, err := e.svc.SSOLogin(ctx, ssoIn("dave", true)); err != nil {
		t.Fatal(err)
	}
	r2 := e.submit("alice", "admin", []string{"db-1"}, time.Hour, "INC-2")
	e.approve("carol", r2.ID)
	_, err = e.svc.Approve(ctx, user("dave"), r2.ID, "ok")
	requireErr(t, err, policy.ErrNotApprover)
	if d := e.lastAudit("web.login"); d["mfa"] != "provider" || d["method"] != "oidc" {
		t.Fatalf("detail %v", d)
	}
}

func TestSSOWithoutTrustedMFAStillNeedsTheTOTPCodeOnce(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.SSOLogin(ctx, ssoIn("carol", false))
	requireErr(t, err, workflow.ErrMFANotEnrolled)
	uri, err := e.svc.EnrollMFA(ctx, user("carol"), "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := e.svc.SSOLogin(ctx, ssoIn("carol", false, "sre"))
	if err != nil {
		t.Fatal(err)
	}
	if l.WebLogin != nil || l.Pending == "" {
		t.Fatalf("without trusted MFA a session opened: %+v", l)
	}
	code := func(in string) workflow.SSOCodeInput {
		return workflow.SSOCodeInput{Pending: l.Pending, Code: in, Addr: "192.0.2.1", Idle: 10 * time.Minute, Absolute: time.Hour}
	}
	// A wrong code spends the pending sign-in.
	_, err = e.svc.SSOCode(ctx, code("000000"))
	requireErr(t, err, workflow.ErrLoginFailed)
	_, err = e.svc.SSOCode(ctx, code(codeFromURI(t, uri, e.clock.Now())))
	requireErr(t, err, workflow.ErrSSOPending)

	l, err = e.svc.SSOLogin(ctx, ssoIn("carol", false, "sre"))
	if err != nil {
		t.Fatal(err)
	}
	wl, err := e.svc.SSOCode(ctx, code(codeFromURI(t, uri, e.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	if wl.Session.User != "carol" {
		t.Fatalf("session %+v", wl.Session)
	}
	if d := e.lastAudit("web.login"); d["mfa"] != "totp" {
		t.Fatalf("detail %v", d)
	}
}

func TestSSOPendingSignInExpires(t *testing.T) {
	e := newEnv(t, nil)
	uri, err := e.svc.EnrollMFA(ctx, user("carol"), "")
	if err != nil {
		t.Fatal(err)
	}
	in := ssoIn("carol", false)
	in.PendingFor = time.Minute
	l, err := e.svc.SSOLogin(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	_, err = e.svc.SSOCode(ctx, workflow.SSOCodeInput{Pending: l.Pending, Code: codeFromURI(t, uri, e.clock.Now()), Addr: "192.0.2.1",
		Idle: 10 * time.Minute, Absolute: time.Hour})
	requireErr(t, err, workflow.ErrSSOPending)
}

func TestSSOForADeactivatedPersonIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	u := e.provision(e.svc, "carol")
	if _, err := e.svc.ChangeDirectoryUser(ctx, u.ID, deactivate); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.SSOLogin(ctx, ssoIn("carol", true))
	requireErr(t, err, workflow.ErrDeactivated)
}
