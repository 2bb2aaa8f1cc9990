package channel

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// docsScript extracts the shell verifier from docs/notifications.md.
func docsScript(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../../docs/notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- verify-webhook.sh -->\n```sh\n")
	script, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/notifications.md has no verify-webhook.sh block")
	}
	path := filepath.Join(t.TempDir(), "verify-webhook.sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTheDocumentedShellVerifierChecksARealDelivery(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		storetest.MissingPeer(t, "openssl (Debian package openssl): %v", err)
	}
	script := docsScript(t)
	var header string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get(notify.SignatureHeader)
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	c, err := New(Endpoint{Name: "ops-hook", Kind: Webhook, URL: srv.URL, Secret: secretFile(t, hookSecret), AllowPlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	m := pending()
	m.Time = time.Now()
	if err := c.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := notify.Sign([]byte(hookSecret), body, time.Now().Add(-time.Hour))
	tests := []struct {
		name, secret, header string
		body                 []byte
		want                 string // "" means accepted
	}{
		{"as delivered", hookSecret, header, body, ""},
		{"body changed", hookSecret, header, append([]byte(nil), append(body, ' ')...), "bad signature"},
		{"another secret", "another-secret-0123456789", header, body, "bad signature"},
		{"signed an hour ago", hookSecret, stale, body, "stale"},
		{"no timestamp", hookSecret, "v1=00", body, "no timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sh", script, tc.header, write(strings.ReplaceAll(tc.name, " ", "-"), tc.body))
			cmd.Env = append(os.Environ(), "LOCKBOX_WEBHOOK_SECRET="+tc.secret)
			out, err := cmd.CombinedOutput()
			if tc.want == "" {
				if err != nil || !strings.Contains(string(out), "signature ok") {
					t.Fatalf("refused a real delivery: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("got %v %q, want a refusal saying %q", err, out, tc.want)
			}
		})
	}
}
