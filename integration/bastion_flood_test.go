package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// auditOf returns the audit rows with action, read as erin (an auditor).
func (w *world) auditOf(action string) []wire.AuditRecord {
	w.t.Helper()
	var out []wire.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(w.ca.ok("erin", "--json", "audit")), "\n") {
		var r wire.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			w.t.Fatalf("audit line %q: %v", line, err)
		}
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// stall is one raw TCP connection to the bastion that sends at most its
// version line and then nothing.
type stall struct {
	opened, closed time.Time
	served         bool // the bastion sent its version line
	done           chan struct{}
}

// openStall connects from the loopback address src (Linux routes all of
// 127/8 to lo) and watches for the bastion closing the connection.
func openStall(t *testing.T, src, addr string, sendVersion bool) *stall {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("connecting from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	s := &stall{opened: time.Now(), done: make(chan struct{})}
	if sendVersion {
		if _, err := io.WriteString(c, "SSH-2.0-stalled\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		defer close(s.done)
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		s.served = strings.HasPrefix(line, "SSH-2.0-")
		for err == nil {
			_, err = r.ReadByte()
		}
		s.closed = time.Now()
	}()
	return s
}

// A flood of connections that never log in (half send a version line and
// stall, half send nothing) is closed at the handshake timeout, through
// real TCP against the running bastion, while a real ssh login goes
// through; connections over the per-source cap are closed at once; and the
// audit log gets one row per source and reason with the count, not a row
// per connection.
func TestBastionClosesAFloodOfStalledConnectionsWhileALoginSucceeds(t *testing.T) {
	const (
		timeout = 8 * time.Second
		sources = 20
		each    = 10 // 200 stalled connections, under the per-source cap of 32
		extra   = 8  // over the cap from one more source
	)
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--handshake_timeout", timeout.String(), "--refusal_report_interval", "1s")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")

	var flood []*stall
	for i := range sources * each {
		flood = append(flood, openStall(t, fmt.Sprintf("127.0.0.%d", 2+i%sources), b.addr, i%2 == 0))
	}
	var capped []*stall
	for range 32 + extra {
		capped = append(capped, openStall(t, "127.0.0.99", b.addr, false))
	}

	login := w.run(b, key, w.code("alice", 0), nil, "echo", "through")
	loggedIn := time.Now()
	if login.code != 0 || strings.TrimSpace(login.stdout) != "through" {
		t.Fatalf("the login during the flood: exit %d, stdout %q, stderr %q", login.code, login.stdout, login.stderr)
	}

	var wg sync.WaitGroup
	for _, s := range append(append([]*stall{}, flood...), capped...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-s.done:
			case <-time.After(timeout + 5*time.Second):
			}
		}()
	}
	wg.Wait()

	longest, shortest := time.Duration(0), time.Duration(1<<62)
	firstClose := time.Time{}
	for i, s := range flood {
		select {
		case <-s.done:
		default:
			t.Fatalf("stalled connection %d still open %v after it was opened", i, time.Since(s.opened).Round(time.Millisecond))
		}
		if !s.served {
			t.Fatalf("stalled connection %d was refused, not served (it is under the caps)", i)
		}
		held := s.closed.Sub(s.opened)
		if held > timeout+time.Second || held < timeout-200*time.Millisecond {
			t.Errorf("stalled connection %d was closed after %v; want %v, at most 1s more", i, held.Round(time.Millisecond), timeout)
		}
		longest, shortest = max(longest, held), min(shortest, held)
		if firstClose.IsZero() || s.closed.Before(firstClose) {
			firstClose = s.closed
		}
	}
	if !loggedIn.Before(firstClose) {
		t.Fatalf("the login ended at %v, after the flood's first connection closed (%v): it did not run during the flood", loggedIn, firstClose)
	}
	refused, slowestRefusal := 0, time.Duration(0)
	for _, s := range capped {
		if !s.served {
			refused++
			d := s.closed.Sub(s.opened)
			slowestRefusal = max(slowestRefusal, d)
			if d > time.Second {
				t.Errorf("a connection over the cap took %v to be refused", d)
			}
		}
	}
	if refused != extra {
		t.Fatalf("%d connections from 127.0.0.99 were refused at once; want %d over the per-source cap of 32", refused, extra)
	}
	t.Logf("%d stalled connections from %d sources: closed %v to %v after they were opened (handshake timeout %v); "+
		"%d over the per-source cap refused within %v; the ssh login during the flood took %v and succeeded",
		len(flood), sources, shortest.Round(time.Millisecond), longest.Round(time.Millisecond), timeout, refused,
		slowestRefusal.Round(time.Millisecond), login.elapsed.Round(time.Millisecond))

	// The audit log counts them: one row per source and reason.
	var rows []wire.AuditRecord
	waitFor(t, 15*time.Second, "the refusal counts in the audit log", func() bool {
		rows = w.auditOf("connection.refused")
		var n float64
		for _, r := range rows {
			n += r.Detail["count"].(float64)
		}
		return n >= float64(len(flood)+len(capped))
	})
	if len(rows) > 2*(sources+1)+2 {
		t.Fatalf("%d audit rows for %d refused connections; want one per source and reason", len(rows), len(flood)+len(capped))
	}
	t.Logf("%d audit rows (connection.refused) for %d refused connections", len(rows), len(flood)+len(capped))
	counts := map[string]float64{}
	for _, r := range rows {
		counts[r.Subject+" "+r.Detail["reason"].(string)] += r.Detail["count"].(float64)
	}
	if counts["127.0.0.99 too many connections not yet logged in"] != extra || counts["127.0.0.2 no login within the handshake timeout"] != each {
		t.Fatalf("counts by source and reason: %v", counts)
	}
}
