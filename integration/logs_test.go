package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// jsonLines parses every line of a log written with log_format json.
func jsonLines(t *testing.T, what, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: a line that is not JSON: %q (%v)", what, line, err)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s: a line without %q: %q", what, k, line)
			}
		}
		out = append(out, m)
	}
	return out
}

// find returns the first line with msg whose fields include want.
func find(lines []map[string]any, msg string, want map[string]string) map[string]any {
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && l[k] == v
		}
		if ok {
			return l
		}
	}
	return nil
}

// With log_format json the CA and the bastion write one JSON object a
// line, and the lines about a request or a session carry its ID: the
// CA's refusal of a self-approval names the request, the bastion's start
// and end of a session name the session and its grant.
func TestJSONLogsCarryRequestAndSessionIDs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{caFlags: []string{"--log_format", "json"}})
	b := w.bastion(nil, "--log_format", "json", "--mfa_remember", "1h")
	w.enroll("alice")
	pending := strings.TrimSpace(w.ca.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "1h", "--reason", "a \"quoted\" reason"))
	w.ca.refused("self_approval", "alice", "approve", pending)
	id, key := w.grant("alice", "admin", "1h")
	if r := w.run(b, key, w.code("alice", 0), nil, "echo", "hi"); r.code != 0 {
		t.Fatalf("session: exit %d, %q", r.code, r.stderr)
	}
	list := w.sessionsOf(w.ca, "alice")
	if len(list) != 1 {
		t.Fatalf("%d sessions", len(list))
	}
	sid := list[0].ID
	waitFor(t, 10*time.Second, "the session's end in the bastion's log", func() bool { return strings.Contains(b.log.String(), `"session ended"`) })

	ca := jsonLines(t, "CA", w.ca.log.String())
	if l := find(ca, "call refused", map[string]string{"request": pending, "code": "self_approval"}); l == nil {
		t.Errorf("no JSON line of the refused self-approval naming %s:\n%s", pending, w.ca.log.String())
	}
	bl := jsonLines(t, "bastion", b.log.String())
	for _, msg := range []string{"session started", "session ended"} {
		if l := find(bl, msg, map[string]string{"session": sid, "request": id, "user": "alice"}); l == nil {
			t.Errorf("no JSON line %q naming session %s and grant %s:\n%s", msg, sid, id, b.log.String())
		}
	}
}
