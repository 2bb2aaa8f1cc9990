package bastion

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/client"
)

// What can be decided without the command is decided before the TOTP code
// is asked for, so a login refused for it spends no code: a revoked grant,
// another open session, a spool that cannot be written.
func TestRefusalsThatNeedNoCommandComeBeforeTheCode(t *testing.T) {
	tests := []struct {
		name  string
		setup func(tb *testBastion, spool string)
		told  string
	}{
		{"a revoked grant", func(tb *testBastion, _ string) {
			tb.ca.checkErr = &client.Error{Status: http.StatusConflict, Code: "grant_not_live",
				Message: "grant is not live: grant req-aaaaaaaaaaaaaaaa was revoked by erin: done"}
		}, "lockbox: grant is not live: grant req-aaaaaaaaaaaaaaaa was revoked by erin: done"},
		{"another open session", func(tb *testBastion, _ string) {
			tb.ca.checkErr = &client.Error{Status: http.StatusConflict, Code: "session_active",
				Message: "another session is open: alice already has session sess-aaaaaaaaaaaaaaaa open (one session per user)"}
		}, "lockbox: another session is open"},
		{"a spool that cannot be written", func(_ *testBastion, spool string) {
			if err := os.RemoveAll(spool); err != nil {
				t.Fatal(err)
			}
		}, "lockbox: the bastion cannot record sessions right now"},
		{"the control plane unreachable", func(tb *testBastion, _ string) {
			tb.ca.checkErr = context.DeadlineExceeded
		}, "lockbox: the control plane cannot be reached"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var spool string
			tb := startBastionWith(t, func(c *Config) { spool = t.TempDir() + "/spool"; c.Spool = openSpool(t, spool) })
			tc.setup(tb, spool)
			var asked atomic.Bool
			code := ssh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
				asked.Store(true)
				return []string{"123456"}, nil
			})
			alice := cert(t, tb.userCA, newKey(t), "alice", "admin@db-1")
			banners, err := dialForBanners(tb, "db-1", ssh.PublicKeys(alice), code)
			if err == nil {
				t.Fatal("logged in")
			}
			if len(banners) != 1 || !strings.HasPrefix(banners[0], tc.told) {
				t.Fatalf("banners %q, want %q", banners, tc.told)
			}
			tb.ca.mu.Lock()
			spent := len(tb.ca.used)
			tb.ca.mu.Unlock()
			if asked.Load() || spent != 0 {
				t.Fatalf("the code was asked for (%v) or spent (%d)", asked.Load(), spent)
			}
		})
	}
}
