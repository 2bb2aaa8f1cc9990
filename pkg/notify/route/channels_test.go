package route

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
)

// secretFile writes a secret file of the given mode and returns its path.
func secretFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestChannelsBuildsEveryEndpointWithItsSecrets(t *testing.T) {
	t.Setenv("TEST_SLACK_URL", "https://hooks.slack.com/services/T0/B0/secret")
	hook := secretFile(t, "hook.secret", "0123456789abcdef0123456789abcdef\n", 0o600)
	pw := secretFile(t, "smtp.password", "hunter2", 0o400)
	text := `notifications:
  endpoints:
    - {name: chat, kind: slack, url_secret: "env:TEST_SLACK_URL"}
    - {name: hook, kind: webhook, url: "https://h.example.com/", secret: "file:` + hook + `"}
    - name: mail
      kind: email
      smtp: {host: smtp.example.com, from: lockbox@example.com, username: lockbox, password: "file:` + pw + `"}
`
	chans, err := Channels(parse(t, map[string]string{"people.yaml": people, "n.yaml": text}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, c := range chans {
		if c.Name() != name {
			t.Errorf("channel %q is named %q", name, c.Name())
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"chat", "hook", "mail"}; !slices.Equal(names, want) {
		t.Errorf("channels %v, want %v", names, want)
	}
	if _, err := Channels(parse(t, map[string]string{"people.yaml": people}), Options{}); err != nil {
		t.Errorf("no section: %v", err)
	}
}

var errLineRE = regexp.MustCompile(`^n\.yaml:\d+: notification endpoint `)

func TestChannelsErrorsNameFileAndLine(t *testing.T) {
	open := secretFile(t, "open.secret", "0123456789abcdef0123456789abcdef", 0o644)
	short := secretFile(t, "short.secret", "tooshort", 0o600)
	missing := filepath.Join(t.TempDir(), "missing.secret")
	notPEM := secretFile(t, "ca.pem", "not a certificate", 0o644)
	os.Unsetenv("TEST_UNSET_URL")
	text := `notifications:
  endpoints:
    - {name: unset, kind: slack, url_secret: "env:TEST_UNSET_URL"}
    - {name: missing, kind: webhook, url: "https://h.example.com/", secret: "file:` + missing + `"}
    - {name: open, kind: webhook, url: "https://h.example.com/", secret: "file:` + open + `"}
    - {name: short, kind: webhook, url: "https://h.example.com/", secret: "file:` + short + `"}
    - {name: plain, kind: email, smtp: {host: smtp.example.com, from: a@example.com, security: none}}
    - {name: noca, kind: email, smtp: {host: smtp.example.com, from: a@example.com, ca_file: "` + notPEM + `"}}
    - {name: fine, kind: email, smtp: {host: smtp.example.com, from: a@example.com}}
`
	_, err := Channels(parse(t, map[string]string{"people.yaml": people, "n.yaml": text}), Options{})
	if err == nil {
		t.Fatal("Channels succeeded")
	}
	if !errors.Is(err, channel.ErrConfig) {
		t.Errorf("error is not channel.ErrConfig: %v", err)
	}
	msg := err.Error()
	for _, want := range []struct{ name, what string }{
		{"unset", "environment variable TEST_UNSET_URL is not set"},
		{"missing", "no such file"},
		{"open", "is open to group or others"},
		{"short", "shorter than 16 bytes"},
		{"plain", "only for a server on a loopback address"},
		{"noca", "holds no PEM certificate"},
	} {
		line := lineOf(t, "n.yaml", text, "name: "+want.name+",")
		if !regexp.MustCompile(regexp.QuoteMeta(line+": notification endpoint "+want.name+":") + `.*` + regexp.QuoteMeta(want.what)).MatchString(msg) {
			t.Errorf("no error for %s at %s saying %q:\n%s", want.name, line, want.what, msg)
		}
	}
	lines := strings.Split(msg, "\n")
	if len(lines) != 6 {
		t.Errorf("want 6 errors, one per line, got %d:\n%s", len(lines), msg)
	}
	for _, l := range lines {
		if !errLineRE.MatchString(l) {
			t.Errorf("error line %q does not start with FILE:LINE: notification endpoint", l)
		}
	}
	if strings.Contains(msg, "0123456789abcdef") || strings.Contains(msg, "tooshort") {
		t.Errorf("an error repeats a secret:\n%s", msg)
	}
	if Check(parse(t, map[string]string{"people.yaml": people, "n.yaml": text})) == nil {
		t.Error("Check succeeded")
	}
}

// TestRoutedMessageReachesAVerifyingReceiver builds the channels and the
// router from one policy and delivers what Route returns: the webhook
// receiver gets a body signed with the secret the policy refers to.
func TestRoutedMessageReachesAVerifyingReceiver(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	t.Setenv("TEST_HOOK_SECRET", secret)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify([]byte(secret), r.Header.Get(notify.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, r.Header.Get(notify.EventHeader)+" "+r.Header.Get(notify.IdempotencyHeader))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	text := `notifications:
  endpoints:
    - {name: hook, kind: webhook, url: "` + srv.URL + `/lockbox", allow_plain_http: true, secret: "env:TEST_HOOK_SECRET"}
  routes:
    - {events: [request.decided], endpoints: [hook]}
`
	p := parse(t, map[string]string{"people.yaml": people, "n.yaml": text})
	chans, err := Channels(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := request(notify.RequestDecided, "reader", "db-1")
	m.Request.Decision = &notify.Decision{Outcome: notify.Denied, By: "carol", Reason: "not now", At: at}
	for _, target := range New(p).Route(m) {
		one := *m
		one.To = target.To
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := chans[target.Endpoint].Deliver(ctx, &one)
		cancel()
		if err != nil {
			t.Fatalf("deliver to %s: %v", target.Endpoint, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"request.decided request.decided-k"}; !slices.Equal(got, want) {
		t.Errorf("receiver got %v, want %v", got, want)
	}
}
