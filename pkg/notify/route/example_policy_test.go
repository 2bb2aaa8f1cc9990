package route

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// examplePolicy reads the example policy, with its commented
// notifications section uncommented when uncomment is set.
func examplePolicy(t *testing.T, uncomment bool) *policy.Policy {
	t.Helper()
	paths, err := filepath.Glob("../../../policy/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("example policy: %v", err)
	}
	files := map[string][]byte{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if uncomment && filepath.Base(path) == "notifications.yaml" {
			data = []byte(uncommentSection(t, string(data)))
		}
		files[path] = data
	}
	p, err := policy.Parse(files)
	if err != nil {
		t.Fatalf("example policy: %v", err)
	}
	return p
}

// uncommentSection drops "# " from the lines between the markers, as the
// file tells its reader to.
func uncommentSection(t *testing.T, text string) string {
	t.Helper()
	var out []string
	in, seen := false, false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == "# --- begin notifications":
			in, seen = true, true
		case line == "# --- end notifications":
			in = false
		case in && line == "#":
			out = append(out, "")
		case in:
			rest, ok := strings.CutPrefix(line, "# ")
			if !ok {
				t.Fatalf("line %q in the section is not commented with \"# \"", line)
			}
			out = append(out, rest)
		default:
			out = append(out, line)
		}
	}
	if !seen || in {
		t.Fatal("notifications.yaml lacks its begin and end markers")
	}
	return strings.Join(out, "\n")
}

// The example policy checks without secrets (its section is commented),
// and its section, uncommented, builds every channel from the
// environment and routes as its comments say.
func TestExamplePolicyNotificationsWork(t *testing.T) {
	if err := Check(examplePolicy(t, false)); err != nil {
		t.Fatalf("the example policy as shipped: %v", err)
	}
	for name, value := range map[string]string{
		"LOCKBOX_SMTP_PASSWORD": "example-password",
		"LOCKBOX_SLACK_URL":     "https://hooks.slack.com/services/T0/B0/example",
		"LOCKBOX_TEAMS_URL":     "https://example.webhook.office.com/workflows/x?sig=example",
		"LOCKBOX_SIEM_SECRET":   "0123456789abcdef0123456789abcdef",
	} {
		t.Setenv(name, value)
	}
	p := examplePolicy(t, true)
	chans, err := Channels(p, Options{})
	if err != nil {
		t.Fatalf("uncommented section: %v", err)
	}
	if len(chans) != 4 {
		t.Errorf("%d channels, want 4", len(chans))
	}
	r := New(p)
	pending := request(notify.RequestPending, "admin", "db-1")
	pending.To = named("carol", "frank")
	want := []notify.Target{
		{Endpoint: "mail", To: []notify.Recipient{rcpt("carol", "carol@example.com"), rcpt("frank", "frank@example.com")}},
		{Endpoint: "ops-slack"},
		{Endpoint: "siem"},
	}
	if diff := cmp.Diff(want, r.Route(pending)); diff != "" {
		t.Errorf("pending admin request on db-1 (-want +got):\n%s", diff)
	}
	onCustomer := session(notify.SessionStarted, "alice", "customer-db", "customer-db")
	want = []notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("grace", "grace@example.com")}}, {Endpoint: "siem"}}
	if diff := cmp.Diff(want, r.Route(onCustomer)); diff != "" {
		t.Errorf("session on customer-db (-want +got):\n%s", diff)
	}
	onDB := session(notify.SessionStarted, "alice", "db-1", "db-1", "customer-db")
	if diff := cmp.Diff([]notify.Target{{Endpoint: "siem"}}, r.Route(onDB)); diff != "" {
		t.Errorf("session on db-1: Contoso hears nothing (-want +got):\n%s", diff)
	}
}
