package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/hooktest"
	"github.com/lockbox-ssh/lockbox/internal/mailpittest"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// The release ca binary routes notifications by the policy's
// notifications section: a pending request reaches its approver by email
// (a real Mailpit over SMTP) and a signed webhook; the decision reaches
// the webhook; each arrives once, with a signature the receiver checks.
func TestNotificationsFromThePolicyReachEmailAndAWebhook(t *testing.T) {
	t.Parallel()
	mail := mailpittest.Start(t, mailpittest.Options{})
	hook := hooktest.Start(t)
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	secret := filepath.Join(t.TempDir(), "hook.secret")
	if err := os.WriteFile(secret, []byte(hooktest.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(mail.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	section := fmt.Sprintf(`notifications:
  endpoints:
    - name: mail
      kind: email
      smtp: {host: %s, port: %s, from: lockbox@example.com, security: none}
    - name: hook
      kind: webhook
      url: %s
      allow_plain_http: true
      secret: file:%s
  routes:
    - {events: [request.pending], endpoints: [mail]}
    - {events: [request.pending, request.decided], to: channel, endpoints: [hook]}
`, host, port, hook.URL(), secret)
	if err := os.WriteFile(filepath.Join(c.policy, "zz-notify.yaml"), []byte(section), 0o600); err != nil {
		t.Fatal(err)
	}
	c.start()

	id := strings.TrimSpace(c.ok("alice", "request", "--role", "reader", "--resource", "db-1", "--duration", "30m",
		"--reason", "look at the disk"))
	msgs := mail.WaitForMessages(t, 1, 30*time.Second)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0].Address != "carol@example.com" {
		t.Fatalf("mail: want one message to carol@example.com (alice's manager), got %+v", msgs)
	}
	body := mail.Message(t, msgs[0].ID).Text
	for _, want := range []string{"alice", "reader", "db-1", id} {
		if !strings.Contains(body, want) {
			t.Errorf("the email lacks %q:\n%s", want, body)
		}
	}

	ctx := context.Background()
	if err := hook.WaitKeys(ctx, 30*time.Second, 1); err != nil {
		t.Fatal(err)
	}
	c.ok("carol", "approve", id, "--reason", "go ahead")
	if err := hook.WaitKeys(ctx, 30*time.Second, 2); err != nil {
		t.Fatal(err)
	}
	events := map[notify.Kind]bool{}
	for key := range hook.Keys() {
		b, ok := hook.Body(key)
		if !ok || b.Request == nil || b.Request.ID != id {
			t.Errorf("webhook body for %s: %+v", key, b)
			continue
		}
		events[b.Event] = true
	}
	if !events[notify.RequestPending] || !events[notify.RequestDecided] || len(events) != 2 {
		t.Errorf("webhook events: %v, want request.pending and request.decided", events)
	}
	if n := hook.BadSignatures(); n != 0 {
		t.Errorf("%d deliveries with a bad signature", n)
	}
	if n := hook.Repeats(); n != 0 {
		t.Errorf("%d repeated deliveries", n)
	}
	if got := len(mail.Messages(t)); got != 1 {
		t.Errorf("%d emails, want 1 (the decision is routed to the webhook only)", got)
	}
}
