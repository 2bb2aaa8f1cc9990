package web_test

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// A break-glass session's page says it had no grant, rather than linking
// to a request that does not exist.
func TestBreakGlassSessionPageSaysThereWasNoGrant(t *testing.T) {
	f := newFixture(t, web.Config{})
	f.person("erin")
	now := f.clock.Now()
	cert, _, err := breakglass.Issue(breakglass.Request{User: "alice", Reason: "CA down", Role: "admin", Resource: "db-1",
		Duration: 30 * time.Minute, Key: signer(t).PublicKey(), Login: "root", Address: "127.0.0.1:22", Bastion: "bastion-1",
		BastionKey: f.policy.Get().Bastions["bastion-1"].Keys[0]}, f.svc.Authorities().UserCA, signer(t), now.Add(-10*time.Minute),
		time.Minute, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := "bg-0123456789abcdef01234567"
	err = f.svc.ReportBreakGlassSession(ctx, workflow.BastionActor("bastion-1"), workflow.BreakGlassReport{SessionID: id,
		Certificate: string(ssh.MarshalAuthorizedKey(cert)), ClientAddr: "192.0.2.7:5000", StartedAt: now.Add(-5 * time.Minute),
		EndedAt: now.Add(-4 * time.Minute), EndReason: "the client disconnected"})
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.login("erin")
	page := b.get("/ui/sessions/" + id)
	if page.status != http.StatusOK || !strings.Contains(page.body, "break-glass certificate") || strings.Contains(page.body, "/ui/requests/break-glass") {
		t.Fatalf("page %d:\n%s", page.status, page.body)
	}
}
