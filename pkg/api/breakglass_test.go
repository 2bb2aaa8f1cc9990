package api_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// glassReport is a report of a session made with a break-glass
// certificate signed by userCA for bastion (whose identity key is key).
func glassReport(t *testing.T, userCA ssh.Signer, bastion string, key ssh.PublicKey) (wire.BreakGlassSession, *ssh.Certificate) {
	t.Helper()
	now := time.Now()
	cert, _, err := breakglass.Issue(breakglass.Request{User: "alice", Reason: "CA database down", Role: "admin", Resource: "db-1",
		Duration: 30 * time.Minute, Key: newSigner(t).PublicKey(), Login: "root", Address: "127.0.0.1:22", Bastion: bastion,
		BastionKey: key, Egress: []string{"127.0.0.1/32"}}, userCA, newSigner(t), now.Add(-10*time.Minute), time.Minute, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	status := 3
	return wire.BreakGlassSession{SessionID: "bg-0123456789abcdef01234567", Certificate: string(ssh.MarshalAuthorizedKey(cert)),
		ClientAddr: "192.0.2.7:50000", Command: "df -h", StartedAt: now.Add(-5 * time.Minute), EndedAt: now.Add(-4 * time.Minute),
		EndReason: "the command exited", ExitStatus: &status}, cert
}

// glassRows returns the audit rows of action.
func glassRows(t *testing.T, s *server, action string) []audit.Record {
	t.Helper()
	recs, err := s.wf.AuditLog(ctx, workflow.UserActor("erin"), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// A bastion's report of a break-glass session signed by the CA's user CA
// for that bastion becomes an ended session and one breakglass.session
// row, once however often it is sent.
func TestBreakGlassSessionReportIsStoredAndAuditedOnce(t *testing.T) {
	s := newServer(t)
	in, cert := glassReport(t, s.wf.Authorities().UserCA, "bastion-1", s.keys["bastion:bastion-1"].PublicKey())
	b := s.client(t, "bastion:bastion-1")
	for range 2 {
		if err := b.ReportBreakGlassSession(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	rows := glassRows(t, s, "breakglass.session")
	if len(rows) != 1 || rows[0].Subject != in.SessionID || rows[0].Actor != "bastion:bastion-1" {
		t.Fatalf("breakglass.session rows: %+v", rows)
	}
	var d map[string]any
	if err := json.Unmarshal(rows[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	serial := strconv.FormatUint(cert.Serial, 10)
	for k, want := range map[string]any{"user": "alice", "role": "admin", "resource": "db-1", "reason": "CA database down",
		"serial": serial, "client": "192.0.2.7:50000", "command": "df -h", "end_reason": "the command exited",
		"exit_status": 3.0, "bastion": "bastion-1", "started": in.StartedAt.UTC().Format(time.RFC3339Nano),
		"ended": in.EndedAt.UTC().Format(time.RFC3339Nano)} {
		if d[k] != want {
			t.Errorf("detail %s = %v, want %v", k, d[k], want)
		}
	}
	list, err := s.wf.Sessions(ctx, workflow.UserActor("erin"), store.SessionFilter{User: "alice"})
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	got := list[0]
	if got.ID != in.SessionID || got.RequestID != "break-glass/"+serial || got.EndedAt.IsZero() || got.EndReason != "the command exited" ||
		got.Bastion != "bastion-1" || got.Command != "df -h" {
		t.Fatalf("session row: %+v", got)
	}
}

// A report the CA cannot check is refused, audited as breakglass.refused,
// and stores nothing: a certificate another key signed as user CA, one for
// another bastion, a session started outside the certificate's validity,
// and a caller that is no bastion.
func TestForgedBreakGlassSessionReportIsRefusedAndAudited(t *testing.T) {
	s := newServer(t)
	bastionKey := s.keys["bastion:bastion-1"].PublicKey()
	forged, _ := glassReport(t, newSigner(t), "bastion-1", bastionKey)
	other, _ := glassReport(t, s.wf.Authorities().UserCA, "bastion-2", bastionKey)
	otherKey, _ := glassReport(t, s.wf.Authorities().UserCA, "bastion-1", newSigner(t).PublicKey())
	late, _ := glassReport(t, s.wf.Authorities().UserCA, "bastion-1", bastionKey)
	late.StartedAt = time.Now().Add(-time.Hour)
	genuine, _ := glassReport(t, s.wf.Authorities().UserCA, "bastion-1", bastionKey)
	b := s.client(t, "bastion:bastion-1")
	for name, in := range map[string]wire.BreakGlassSession{"another user CA": forged, "another bastion": other,
		"a hop certificate for another key": otherKey, "started before the certificate": late} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, b.ReportBreakGlassSession(ctx, in), http.StatusForbidden, "break_glass_refused")
		})
	}
	wantCode(t, s.client(t, "user:alice").ReportBreakGlassSession(ctx, genuine), http.StatusForbidden, "break_glass_refused")
	if rows := glassRows(t, s, "breakglass.refused"); len(rows) != 5 {
		t.Fatalf("%d breakglass.refused rows, want 5: %+v", len(rows), rows)
	}
	if rows := glassRows(t, s, "breakglass.session"); len(rows) != 0 {
		t.Fatalf("a refused report was audited as a session: %+v", rows)
	}
	if list, err := s.wf.Sessions(ctx, workflow.UserActor("erin"), store.SessionFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("sessions after refused reports: %v %v", list, err)
	}
}
