package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// liveWorld is a world on MySQL with two CA replicas: the bastion reports
// to the first, watchers use the second, and no request is routed to the
// replica that has the session.
func liveWorld(t *testing.T) (*world, *ca, *bastionProc) {
	w := newWorld(t, worldOptions{driver: "mysql"})
	ca2 := w.ca.replica()
	b := w.bastion(nil)
	w.enroll("alice")
	return w, ca2, b
}

// liveSessions lists the running sessions who may watch, through c.
func liveSessions(t *testing.T, c *ca, who string) []wire.LiveSession {
	var list []wire.LiveSession
	if err := json.Unmarshal([]byte(c.ok(who, "--json", "sessions", "--live")), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

// waitLive waits until who sees one live session through c, and returns
// its ID.
func waitLive(t *testing.T, c *ca, who string) string {
	var id string
	waitFor(t, 30*time.Second, "the session to be listed live on the other replica", func() bool {
		if l := liveSessions(t, c, who); len(l) == 1 {
			id = l[0].ID
		}
		return id != ""
	})
	return id
}

// watchProc starts `lockbox watch ID --raw` as who through c.
func watchProc(t *testing.T, ctx context.Context, c *ca, who, id string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lockbox"), "watch", id, "--raw")
	cmd.Env = append(os.Environ(), "LOCKBOX_CA="+c.url, "LOCKBOX_USER="+who, "LOCKBOX_IDENTITY="+filepath.Join(c.keys, who), "SSH_AUTH_SOCK=")
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, errOut
}

// The watcher, on the other replica, gets exactly the bytes the session
// wrote, and the watched user is told who watches.
func TestLiveWatcherOnAnotherReplicaGetsTheSessionsBytes(t *testing.T) {
	t.Parallel()
	w, ca2, b := liveWorld(t)
	_, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := `echo ready; read go; i=0; while [ $i -lt 3000 ]; do echo "line $i of the session"; i=$((i+1)); done; echo done`
	ssh, out, errOut := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sh", "-c", "'"+script+"'")
	stdin, err := ssh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitLive(t, ca2, "carol")
	watch, watched, watchErr := watchProc(t, ctx, ca2, "carol", id)
	waitFor(t, 20*time.Second, "alice to be told carol watches", func() bool {
		return strings.Contains(errOut.String(), "lockbox: carol is watching this session live")
	})
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	if err := ssh.Wait(); err != nil {
		t.Fatalf("ssh: %v\n%s", err, errOut)
	}
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v\n%s", err, watchErr)
	}
	if !strings.HasSuffix(out.String(), "done\n") || strings.Count(out.String(), "\n") != 3002 {
		t.Fatalf("the session's output is not what the script writes: %d lines", strings.Count(out.String(), "\n"))
	}
	if watched.String() != out.String() {
		t.Fatalf("the watcher got %d bytes, the session wrote %d; watch stderr:\n%s", len(watched.String()), len(out.String()), watchErr)
	}
	if !strings.Contains(watchErr.String(), "the session ended") {
		t.Fatalf("the watcher was not told the session ended:\n%s", watchErr)
	}
	audit := w.ca.ok("erin", "audit", "--json")
	for _, action := range []string{`"session.watch_started"`, `"session.watch_ended"`} {
		if !strings.Contains(audit, action) {
			t.Errorf("no %s row in the audit log", action)
		}
	}
}

// A watcher ends the session with a reason: the bastion ends it, the user
// is told, and the audit log says who.
func TestWatcherEndsTheSessionFromTheOtherReplica(t *testing.T) {
	t.Parallel()
	w, ca2, b := liveWorld(t)
	_, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ssh, _, errOut := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sh", "-c", "'echo ready; sleep 60'")
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitLive(t, ca2, "frank")
	began := time.Now()
	ca2.ok("frank", "watch", id, "--end", "not what the ticket says")
	err := ssh.Wait()
	took := time.Since(began)
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 207 {
		t.Fatalf("ssh ended with %v, want exit status 207\n%s", err, errOut)
	}
	if want := "lockbox: session ended: ended by frank, who was watching: not what the ticket says"; !strings.Contains(errOut.String(), want) {
		t.Fatalf("alice's stderr lacks %q:\n%s", want, errOut)
	}
	if took > 10*time.Second {
		t.Fatalf("the session ended %v after the watcher ended it", took)
	}
	audit := w.ca.ok("erin", "audit", "--json")
	if !strings.Contains(audit, `"session.end_requested"`) || !strings.Contains(audit, "ended by frank, who was watching") {
		t.Fatalf("the audit log does not say frank ended it:\n%s", audit)
	}
}

// An engineer who is neither auditor nor approver is refused on every
// live endpoint the CLI reaches, through either replica.
func TestEngineerIsRefusedLiveSessions(t *testing.T) {
	t.Parallel()
	w, ca2, b := liveWorld(t)
	_, key := w.grant("alice", "admin", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ssh, _, _ := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sleep", "60")
	if err := ssh.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ssh.Process.Kill(); ssh.Wait() }()
	id := waitLive(t, ca2, "carol")
	for _, c := range []*ca{w.ca, ca2} {
		c.refused("only auditors and the approvers of a grant see its live sessions", "bob", "sessions", "--live")
		c.refused("no such session", "bob", "watch", id)
		c.refused("no such session", "bob", "watch", id, "--end", "curious")
	}
	if strings.Count(w.ca.ok("erin", "audit", "--json"), `"session.watch_refused"`) < 6 {
		t.Fatal("bob's refusals are not all audited")
	}
}
