package integration

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var metricsLine = regexp.MustCompile(`msg="metrics serving" addr=(\S+)`)

// metricsURL is the /metrics address a binary logged at start.
func metricsURL(t *testing.T, log *syncBuffer) string {
	t.Helper()
	var addr string
	waitFor(t, 10*time.Second, "the metrics listener's address in the log", func() bool {
		if m := metricsLine.FindStringSubmatch(log.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	return "http://" + addr + "/metrics"
}

// samples is one scrape: each sample line's name and labels, as written,
// with its value.
type samples map[string]float64

func scrape(t *testing.T, url string) samples {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	out := samples{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%s: %q", url, line)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the samples of metric name whose labels include every one of
// labels (`code="200"`), and reports whether there was any.
func (s samples) sum(name string, labels ...string) (float64, bool) {
	total, found := 0.0, false
	for k, v := range s {
		n, rest, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if ok {
			total, found = total+v, true
		}
	}
	return total, found
}

func (s samples) get(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.sum(name, labels...)
	if !ok {
		t.Fatalf("no sample %s %v", name, labels)
	}
	return v
}

// The CA's and the bastion's /metrics, scraped after a request, its
// approvals, a refused self-approval, a session, a second session refused
// while the first is open, and the recording's upload, show each of them.
func TestMetricsCountRequestsApprovalsAndSessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	caURL, bURL := metricsURL(t, w.ca.log), metricsURL(t, b.log)
	if up := scrape(t, bURL); up.get(t, "lockbox_bastion_sessions_live") != 0 {
		t.Fatal("a session is live before any began")
	}
	w.enroll("alice")
	pending := strings.TrimSpace(w.ca.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "metrics"))
	w.ca.refused("self_approval", "alice", "approve", pending)
	id, key := w.grant("alice", "admin", "1h")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	long, _, _ := w.ssh(ctx, b, key, w.code("alice", 0), nil, "sleep", "60")
	if err := long.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "one live session", func() bool {
		return scrape(t, bURL).get(t, "lockbox_bastion_sessions_live") == 1
	})
	if r := w.run(b, key, "", nil, "true"); r.code == 0 {
		t.Fatalf("a second session at once was not refused: %q", r.stderr)
	}
	cancel()
	long.Wait()
	if r := w.run(b, key, "", nil, "echo", "recorded"); r.code != 0 || r.stdout != "recorded\n" {
		t.Fatalf("session: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 20*time.Second, "both recordings uploaded", func() bool {
		return scrape(t, bURL).get(t, "lockbox_bastion_recording_uploads_total", `result="ok"`) >= 2
	})

	c := scrape(t, caURL)
	for _, want := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"lockbox_api_requests_total", []string{`route="POST /v1/requests"`, `code="201"`}, 2},
		{"lockbox_api_requests_total", []string{`route="POST /v1/requests/{id}/approve"`, `code="200"`}, 2},
		{"lockbox_api_requests_total", []string{`route="POST /v1/requests/{id}/approve"`, `code="403"`}, 1},
		{"lockbox_api_requests_total", []string{`route="POST /v1/sessions"`, `code="201"`}, 2},
		{"lockbox_api_requests_total", []string{`route="POST /v1/sessions/check"`, `code="409"`}, 1},
		{"lockbox_api_request_duration_seconds_count", []string{`route="POST /v1/requests/{id}/certificate"`}, 1},
		{"lockbox_certificates_issued_total", []string{`kind="user"`}, 1},
		{"lockbox_certificates_issued_total", []string{`kind="hop"`}, 2},
		{"lockbox_refusals_total", []string{`reason="self_approval"`}, 1},
		{"lockbox_refusals_total", []string{`reason="session_active"`}, 1},
		{"lockbox_session_lease_conflicts_total", nil, 1},
		{"lockbox_store_transaction_duration_seconds_count", []string{`kind="write"`}, 5},
		{"lockbox_store_transaction_duration_seconds_count", []string{`kind="read"`}, 1},
		{"lockbox_store_batch_size_count", nil, 5},
		{"lockbox_recording_bytes_stored_total", nil, 1},
		{"lockbox_audit_checkpoints_signed_total", nil, 1},
	} {
		if got := c.get(t, want.name, want.labels...); got < want.min {
			t.Errorf("CA: %s %v = %v, want at least %v", want.name, want.labels, got, want.min)
		}
	}
	// The example policy routes no notification: the outbox is empty, and
	// says so.
	for _, name := range []string{"lockbox_notifications_queued", "lockbox_notifications_dead"} {
		if v, ok := c.sum(name); !ok || v != 0 {
			t.Errorf("CA: %s = %v (exported: %v), want 0", name, v, ok)
		}
	}
	if age := c.get(t, "lockbox_audit_checkpoint_age_seconds"); age < 0 || age > 60 {
		t.Errorf("CA: checkpoint age %v", age)
	}
	bs := scrape(t, bURL)
	for _, want := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"lockbox_bastion_sessions_ended_total", []string{`reason="logout"`}, 1},
		{"lockbox_bastion_sessions_ended_total", []string{`reason="client_gone"`}, 1},
		{"lockbox_bastion_refusals_total", []string{`reason="ca:session_active"`}, 1}, // the second session, at login
		{"lockbox_bastion_recording_bytes_total", nil, float64(len("recorded\n"))},
		{"lockbox_bastion_ca_up", nil, 1},
	} {
		if got := bs.get(t, want.name, want.labels...); got < want.min {
			t.Errorf("bastion: %s %v = %v, want at least %v", want.name, want.labels, got, want.min)
		}
	}
	if live, spool := bs.get(t, "lockbox_bastion_sessions_live"), bs.get(t, "lockbox_bastion_spool_recordings"); live != 0 || spool != 0 {
		t.Errorf("bastion: %v sessions live, %v recordings in the spool after all ended and uploaded", live, spool)
	}
	if _, ok := bs.sum("lockbox_api_requests_total"); ok {
		t.Error("the bastion exports the CA's metrics")
	}
	for k := range c {
		if strings.Contains(k, "alice") || strings.Contains(k, id) {
			t.Errorf("a label names a person or a request: %s", k)
		}
	}
}
