package integration

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A session that ends while the CA does not answer keeps its end (time,
// reason, exit status) with its spooled recording, and the bastion
// reports it as soon as the CA answers again: the sessions list and the
// audit log say what happened, not "the bastion stopped during the
// session".
func TestASessionEndingDuringACAOutageIsReportedTruthfully(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, _, stderr := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sh", "-c", "'sleep 3; exit 3'")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the session to open", func() bool { return len(w.openSessions()) == 1 })

	// The CA stops answering (its process is paused) while the session ends.
	if err := w.ca.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			w.ca.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	cmd.Wait()
	clientDone := time.Now()
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("ssh exited %d, want the command's 3; stderr %q", code, stderr.String())
	}
	time.Sleep(2 * time.Second) // the outage goes on after the session ended
	resume()
	resumedAt := time.Now()

	var s wire.Session
	waitFor(t, 15*time.Second, "the session's end at the CA", func() bool {
		var list []wire.Session
		if err := json.Unmarshal([]byte(w.ca.ok("erin", "--json", "sessions")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 || list[0].EndedAt == nil {
			return false
		}
		s = list[0]
		return true
	})
	reportedAfter := time.Since(resumedAt)
	if s.EndReason != "exited with status 3" {
		t.Fatalf("end reason %q, want the true one", s.EndReason)
	}
	if !s.EndedAt.Before(clientDone) {
		t.Fatalf("ended at %v, after the client exited at %v: the time is when it was reported, not when it ended", s.EndedAt, clientDone)
	}
	var row *wire.AuditRecord
	for _, r := range w.auditOf("session.ended") {
		if r.Subject == s.ID {
			row = &r
		}
	}
	if row == nil || row.Detail["exit_status"] != float64(3) || row.Detail["reported_late_by"] == nil || row.Detail["reason"] != "exited with status 3" {
		t.Fatalf("session.ended audit row: %+v", row)
	}
	w.recordingOf("alice") // and the recording arrives
	t.Logf("the end was reported %v after the CA answered again (reported late by %v)", reportedAfter.Round(time.Millisecond), row.Detail["reported_late_by"])
}
