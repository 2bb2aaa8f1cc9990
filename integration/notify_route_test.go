package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A notification endpoint whose secret cannot be resolved is an error with
// file and line at ca policy check and at reload (which keeps the old
// policy); with the secret there, the same policy checks.
func TestNotificationSecretsAreResolvedAtCheckAndReload(t *testing.T) {
	t.Parallel()
	c := startCA(t, "sqlite")
	const env = "LOCKBOX_TEST_ROUTE_SLACK_URL"
	os.Unsetenv(env)
	section := "notifications:\n  endpoints:\n    - name: ops-slack\n      kind: slack\n      url_secret: env:" + env + "\n" +
		"  routes:\n    - {events: [request.pending], to: channel, endpoints: [ops-slack]}\n"
	if err := os.WriteFile(filepath.Join(c.policy, "zz-notify.yaml"), []byte(section), 0o600); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(filepath.Join(bin, "ca"), "policy", "check", c.policy)
	out, err := check.CombinedOutput()
	want := "zz-notify.yaml:3: notification endpoint ops-slack"
	if err == nil || !strings.Contains(string(out), want) || !strings.Contains(string(out), "environment variable "+env+" is not set") {
		t.Fatalf("policy check without the secret: %v\n%s", err, out)
	}
	check = exec.Command(filepath.Join(bin, "ca"), "policy", "check", c.policy)
	check.Env = append(os.Environ(), env+"=https://hooks.slack.com/services/T0/B0/x")
	if out, err := check.CombinedOutput(); err != nil || !strings.Contains(string(out), "notifications ok: 1 endpoints (secrets resolved), 1 routes") {
		t.Fatalf("policy check with the secret: %v\n%s", err, out)
	}
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the reload failure in the log", func() bool {
		return strings.Contains(c.log.String(), "keeping the previous policy")
	})
	if !strings.Contains(c.log.String(), want) {
		t.Fatalf("the log does not say why:\n%s", c.log.String())
	}
	c.ok("alice", "request", "--role", "health", "--resource", "db-1", "--duration", "10m", "--reason", "still works")

	// A CA started on that policy refuses to start, and says why.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serve := exec.CommandContext(ctx, filepath.Join(bin, "ca"), "serve", "--data", c.dir, "--policy", c.policy, "--listen", "127.0.0.1:0")
	serve.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER="+c.driver, "LOCKBOX_STORE_DSN="+c.dsn)
	out, err = serve.CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), want) {
		t.Fatalf("ca serve on a policy with an unset secret: %v (context: %v)\n%s", err, ctx.Err(), out)
	}
}
