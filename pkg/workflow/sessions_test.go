package workflow_test

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var bastion = workflow.BastionActor("bastion-1")

func (e *env) startSession(who, id, resource string) (*workflow.SessionGrant, error) {
	return e.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: id, Resource: resource, User: who, ClientAddr: "127.0.0.1:5555", Command: "uptime"})
}

func TestSessionStartChecksTheGrantAndTheLease(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	g, err := e.startSession("alice", r.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	want := workflow.Target{Address: "127.0.0.1:2201", Login: "ops"}
	if diff := cmp.Diff(want, g.Target); diff != "" || !g.NotAfter.Equal(r.NotAfter) || g.Interactive || len(g.AllowedCommands) != 2 {
		t.Fatalf("grant: %+v (-want +got target):\n%s", g, diff)
	}
	refusals := []struct {
		name, user, id, resource string
		want                     error
	}{
		{"a second session of the same user", "alice", r.ID, "db-1", workflow.ErrSessionActive},
		{"someone else's grant", "bob", r.ID, "db-1", workflow.ErrForbidden},
		{"a resource outside the grant", "alice", r.ID, "db-2", workflow.ErrNotInGrant},
		{"no such request", "alice", "req-aaaaaaaaaaaaaaaa", "db-1", workflow.ErrNotFound},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.startSession(tc.user, tc.id, tc.resource)
			requireErr(t, err, tc.want)
		})
	}
	_, err = e.svc.StartSession(ctx, workflow.BastionActor("rogue"), workflow.SessionStart{RequestID: r.ID, Resource: "db-1", User: "alice"})
	requireErr(t, err, workflow.ErrNotBastion)

	// Ending the session frees the lease at once.
	if err := e.svc.EndSession(ctx, bastion, g.Session.ID, "user logged out"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.startSession("alice", r.ID, "db-1"); err != nil {
		t.Fatalf("a sequential login was refused: %v", err)
	}
	if diff := cmp.Diff([]string{"session.started", "session.ended"}, e.actions(g.Session.ID)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestHeartbeatReportsRevocationAndGrantEnd(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, 10*time.Minute, "")
	g, err := e.startSession("alice", r.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	id := g.Session.ID
	st, err := e.svc.Heartbeat(ctx, bastion, []string{id, "sess-unknown"})
	if err != nil || !st[id].Live || st["sess-unknown"].Live {
		t.Fatalf("heartbeat: %v %+v", err, st)
	}
	if _, err := e.svc.Revoke(ctx, user("erin"), r.ID, "suspicious"); err != nil {
		t.Fatal(err)
	}
	st, _ = e.svc.Heartbeat(ctx, bastion, []string{id})
	if st[id].Live || !strings.Contains(st[id].Reason, "revoked by erin: suspicious") || st[id].Ended != workflow.EndedRevoked {
		t.Fatalf("after revoke: %+v", st[id])
	}

	r2 := e.submit("bob", "health", []string{"db-1"}, 10*time.Minute, "")
	g2, err := e.startSession("bob", r2.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	st, _ = e.svc.Heartbeat(ctx, bastion, []string{g2.Session.ID})
	if s := st[g2.Session.ID]; s.Live || !strings.Contains(s.Reason, "grant ended") || s.Ended != workflow.EndedExpired {
		t.Fatalf("after the window: %+v", s)
	}
}

// A bastion that crashes stops renewing; once the lease runs out, the user
// may log in again, and the dead session learns it lost its lease.
func TestLeaseOfACrashedBastionIsReclaimed(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	g, err := e.startSession("alice", r.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30*time.Second - time.Millisecond) // the default lease TTL
	_, err = e.startSession("alice", r.ID, "db-1")
	requireErr(t, err, workflow.ErrSessionActive)
	e.clock.Advance(time.Millisecond)
	if _, err := e.startSession("alice", r.ID, "db-1"); err != nil {
		t.Fatalf("after the lease ran out: %v", err)
	}
	st, _ := e.svc.Heartbeat(ctx, bastion, []string{g.Session.ID})
	if st[g.Session.ID].Live {
		t.Fatal("the old session still holds the lease")
	}
}

func TestRecordingsAreKeptAndShownOnlyToTheirUserAndAuditors(t *testing.T) {
	e := newEnv(t, nil)
	rec, err := recstore.Open(filepath.Join(t.TempDir(), "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = e.serviceWith(e.st, func(c *workflow.Config) { c.Recordings = rec })
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	g, err := e.startSession("alice", r.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	id := g.Session.ID
	_, _, err = e.svc.Recording(ctx, user("erin"), id)
	requireErr(t, err, workflow.ErrNoRecording)
	body := "{\"version\":2,\"width\":80,\"height\":24}\n[0.5,\"o\",\"hello\"]\n"
	err = e.svc.StoreRecording(ctx, workflow.BastionActor("other"), id, strings.NewReader(body))
	requireErr(t, err, workflow.ErrForbidden)
	if err := e.svc.StoreRecording(ctx, bastion, id, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	for who, ok := range map[string]bool{"alice": true, "erin": true, "bob": false} {
		rc, sess, err := e.svc.Recording(ctx, user(who), id)
		if !ok {
			requireErr(t, err, workflow.ErrNoSession)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != body || sess.RecordingSize != int64(len(body)) {
			t.Fatalf("%s got %q (%+v)", who, got, sess)
		}
	}
	list, err := e.svc.Sessions(ctx, user("bob"), store.SessionFilter{})
	if err != nil || len(list) != 0 {
		t.Fatalf("bob sees %d sessions (%v)", len(list), err)
	}
	list, err = e.svc.Sessions(ctx, user("erin"), store.SessionFilter{User: "alice"})
	if err != nil || len(list) != 1 {
		t.Fatalf("erin sees %d of alice's sessions (%v)", len(list), err)
	}
}

func TestSessionCommandsFollowTheRole(t *testing.T) {
	e := newEnv(t, nil)
	health := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	admin := e.submit("bob", "admin", []string{"db-1"}, time.Hour, "INC-1")
	e.approve("carol", admin.ID)
	e.approve("frank", admin.ID)
	tests := []struct {
		name, user, id, command string
		want                    error
	}{
		{"an allowed command", "alice", health.ID, "df -h", nil},
		{"a command outside the patterns", "alice", health.ID, "cat /etc/shadow", workflow.ErrCommand},
		{"a shell on a non-interactive role", "alice", health.ID, "", workflow.ErrCommand},
		{"a shell on an interactive role", "bob", admin.ID, "", nil},
		{"any command on an interactive role without patterns", "bob", admin.ID, "vim /etc/hosts", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := e.svc.StartSession(ctx, bastion, workflow.SessionStart{RequestID: tc.id, Resource: "db-1", User: tc.user, Command: tc.command})
			if tc.want != nil {
				requireErr(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := e.svc.EndSession(ctx, bastion, g.Session.ID, "done"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A registered bastion's report of refusals becomes audit rows: one per
// person refused, one per source and reason for anonymous counts; anyone
// else's report, and malformed ones, are refused.
func TestBastionRefusalsAreAudited(t *testing.T) {
	e := newEnv(t, nil)
	at := e.clock.Now()
	refusals := []workflow.BastionRefusal{
		{Kind: workflow.RefusedLogin, Time: at, User: "alice", RequestID: "req-aaaaaaaaaaaaaaaa", Login: "web-1", KeyID: "alice/req-aaaaaaaaaaaaaaaa",
			Serial: 42, Fingerprint: "SHA256:abc", ClientAddr: "192.0.2.7", Reason: "this certificate is for db-1"},
		{Kind: workflow.RefusedChannel, Time: at, User: "alice", RequestID: "req-aaaaaaaaaaaaaaaa", SessionID: "sess-aaaaaaaaaaaaaaaa",
			ClientAddr: "192.0.2.7", Type: "direct-tcpip", Target: "10.0.0.1:5432", Reason: "port forwarding is not allowed"},
	}
	counts := []workflow.RefusalCount{{Source: "198.51.100.9", Reason: "no login within the handshake timeout", Count: 200, First: at, Last: at}}
	if err := e.svc.RecordBastionRefusals(ctx, bastion, refusals, counts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"login.refused", "channel.refused"}, e.actions("req-aaaaaaaaaaaaaaaa")); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"connection.refused"}, e.actions("198.51.100.9")); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
	for _, r := range e.auditRows() {
		if r.Action == "connection.refused" && !strings.Contains(string(r.Detail), `"count":200`) {
			t.Fatalf("the count is not in the row: %s", r.Detail)
		}
	}
	err := e.svc.RecordBastionRefusals(ctx, workflow.BastionActor("rogue"), refusals, nil)
	requireErr(t, err, workflow.ErrNotBastion)
	for name, bad := range map[string][]workflow.BastionRefusal{
		"unknown kind":       {{Kind: "other", User: "alice", Reason: "x"}},
		"no reason":          {{Kind: workflow.RefusedLogin, User: "alice"}},
		"control characters": {{Kind: workflow.RefusedLogin, User: "alice", Reason: "x\x1b[2J"}},
		"too long":           {{Kind: workflow.RefusedLogin, User: "alice", Reason: strings.Repeat("x", 600)}},
	} {
		if err := e.svc.RecordBastionRefusals(ctx, bastion, bad, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := e.svc.RecordBastionRefusals(ctx, bastion, nil, []workflow.RefusalCount{{Source: "x", Reason: "y", Count: 0}}); err == nil {
		t.Error("a zero count was accepted")
	}
}

// The check before the code says what StartSession would refuse for the
// grant and the lease, takes nothing, and audits its refusals.
func TestSessionCheckRefusesWithoutTakingAnything(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, 10*time.Minute, "")
	check := func(who, id, resource string) error {
		return e.svc.CheckSession(ctx, bastion, workflow.SessionCheck{RequestID: id, Resource: resource, User: who, ClientAddr: "192.0.2.1"})
	}
	for i := 0; i < 3; i++ { // checking takes no lease
		if err := check("alice", r.ID, "db-1"); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if _, err := e.startSession("alice", r.ID, "db-1"); err != nil {
		t.Fatalf("a session after checks: %v", err)
	}
	requireErr(t, check("alice", r.ID, "db-1"), workflow.ErrSessionActive)
	requireErr(t, check("bob", r.ID, "db-1"), workflow.ErrForbidden)
	requireErr(t, check("alice", r.ID, "db-2"), workflow.ErrNotInGrant)
	requireErr(t, check("alice", "req-aaaaaaaaaaaaaaaa", "db-1"), workflow.ErrNotFound)
	requireErr(t, e.svc.CheckSession(ctx, workflow.BastionActor("rogue"), workflow.SessionCheck{RequestID: r.ID, Resource: "db-1", User: "alice"}), workflow.ErrNotBastion)

	r2 := e.submit("bob", "health", []string{"db-1"}, 10*time.Minute, "")
	if _, err := e.svc.Revoke(ctx, user("erin"), r2.ID, "suspicious"); err != nil {
		t.Fatal(err)
	}
	err := check("bob", r2.ID, "db-1")
	requireErr(t, err, workflow.ErrNotLive)
	if !strings.Contains(err.Error(), "revoked by erin: suspicious") {
		t.Fatalf("the refusal says %q", err)
	}
	r3 := e.submit("alice", "health", []string{"db-1"}, 10*time.Minute, "")
	e.clock.Advance(10 * time.Minute)
	if err := check("alice", r3.ID, "db-1"); err == nil || !strings.Contains(err.Error(), "ended at") {
		t.Fatalf("an ended grant: %v", err)
	}
	if diff := cmp.Diff([]string{"session.refused"}, e.actions(r2.ID)[len(e.actions(r2.ID))-1:]); diff != "" {
		t.Fatalf("the refusal is not audited (-want +got):\n%s", diff)
	}
}

// An end reported late keeps the time it happened (within the session's
// life), the exit status, and says in the audit row that it came late.
func TestALateSessionEndKeepsItsTimeAndStatus(t *testing.T) {
	e := newEnv(t, nil)
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	g, err := e.startSession("alice", r.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	endedAt := e.clock.Now().UTC()
	e.clock.Advance(20 * time.Second) // the CA was unreachable meanwhile
	three := 3
	if err := e.svc.ReportSessionEnd(ctx, bastion, g.Session.ID, workflow.SessionEnd{Reason: "exited with status 3", At: endedAt, ExitStatus: &three}); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.Sessions(ctx, user("erin"), store.SessionFilter{})
	if err != nil || len(list) != 1 || !list[0].EndedAt.Equal(endedAt) || list[0].EndReason != "exited with status 3" {
		t.Fatalf("sessions: %v %+v", err, list)
	}
	var detail string
	for _, row := range e.auditRows() {
		if row.Action == "session.ended" {
			detail = string(row.Detail)
		}
	}
	for _, want := range []string{`"exit_status":3`, `"reported_late_by":"20s"`, `"duration":"1m0s"`} {
		if !strings.Contains(detail, want) {
			t.Fatalf("session.ended detail %s lacks %s", detail, want)
		}
	}
	// A time outside the session's life is kept within it.
	r2 := e.submit("bob", "health", []string{"db-1"}, time.Hour, "")
	g2, err := e.startSession("bob", r2.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ReportSessionEnd(ctx, bastion, g2.Session.ID, workflow.SessionEnd{Reason: "x", At: g2.Session.StartedAt.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	list, _ = e.svc.Sessions(ctx, user("erin"), store.SessionFilter{User: "bob"})
	if !list[0].EndedAt.Equal(g2.Session.StartedAt) {
		t.Fatalf("ended at %v, before it started at %v", list[0].EndedAt, g2.Session.StartedAt)
	}
}
