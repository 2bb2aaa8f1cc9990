package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/mailpittest"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/render"
)

const hookSecret = "3f9c2a7e1b5d48c6a0e2f4b6d8c1a3e5"

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func pending() *notify.Message {
	return &notify.Message{
		Key: notify.NewKey(notify.RequestPending, "req-7f3a", "carol"), Kind: notify.RequestPending, Time: at,
		To:   []notify.Recipient{{Name: "carol", Email: "carol@example.com"}},
		Link: "https://lockbox.example.com/ui/requests/req-7f3a",
		Request: &notify.Request{
			ID: "req-7f3a", Requester: "alice",
			Role:      notify.Role{Name: "db-admin", Login: "root", Interactive: true, MaxDuration: 4 * time.Hour},
			Resources: []notify.Resource{{Name: "billing-db", Description: "Billing", OwnApproval: true}},
			Duration:  2 * time.Hour, Window: notify.Window{NotBefore: at, NotAfter: at.Add(2 * time.Hour)},
			Justification: "<!channel> <script>alert(1)</script> [approve](https://evil.example) \x1b[2J",
			Outstanding:   []notify.Requirement{{Count: 1, Of: []string{"carol", "dave"}, Label: "managers of storage"}},
		},
	}
}

func secretFile(t *testing.T, secret string) notify.SecretRef {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return notify.SecretRef("file:" + p)
}

// receiver is a webhook receiver as docs/notifications.md tells people
// to write one: verify the signature over the raw body with a bounded
// timestamp, check the idempotency key, act once per key.
type receiver struct {
	secret    []byte
	tolerance time.Duration
	now       func() time.Time
	failFirst int // answer 503 to this many deliveries first

	mu        sync.Mutex
	attempts  []string // idempotency keys, one per accepted signature
	processed map[string]render.WebhookBody
	refusals  []error
}

func newReceiver(secret string, now func() time.Time) *receiver {
	return &receiver{secret: []byte(secret), tolerance: 5 * time.Minute, now: now, processed: map[string]render.WebhookBody{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "reading", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := notify.Verify(rc.secret, r.Header.Get(notify.SignatureHeader), body, rc.now(), rc.tolerance); err != nil {
		rc.refusals = append(rc.refusals, err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b render.WebhookBody
	key := r.Header.Get(notify.IdempotencyHeader)
	if err := json.Unmarshal(body, &b); err != nil || b.ID != key || b.Schema != render.WebhookSchema {
		rc.refusals = append(rc.refusals, errors.New("body id and idempotency key differ"))
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rc.attempts = append(rc.attempts, key)
	if len(rc.attempts) <= rc.failFirst {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if _, dup := rc.processed[key]; !dup {
		rc.processed[key] = b
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhookDeliveriesAreSignedRetriedWithOneKeyAndActedOnOnce(t *testing.T) {
	clock := at
	rc := newReceiver(hookSecret, func() time.Time { return clock })
	rc.failFirst = 1
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c, err := New(Endpoint{Name: "ops-hook", Kind: Webhook, URL: srv.URL, Secret: secretFile(t, hookSecret), AllowPlainHTTP: true,
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	m := pending()
	err = c.Deliver(context.Background(), m)
	if !errors.Is(err, notify.ErrUnavailable) || notify.Classify(err) != notify.Retryable {
		t.Fatalf("first attempt = %v, want a retryable ErrUnavailable", err)
	}
	// The retry comes later than the receiver's tolerance after the first
	// attempt: it is signed anew, so it is still accepted.
	clock = clock.Add(10 * time.Minute)
	if err := c.Deliver(context.Background(), m); err != nil {
		t.Fatalf("retry = %v", err)
	}
	// At least once: a delivery repeated after success is dropped by key.
	if err := c.Deliver(context.Background(), m); err != nil {
		t.Fatalf("repeat = %v", err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.refusals) != 0 {
		t.Fatalf("receiver refused: %v", rc.refusals)
	}
	if len(rc.attempts) != 3 || rc.attempts[0] != m.Key || rc.attempts[1] != m.Key || rc.attempts[2] != m.Key {
		t.Fatalf("attempts = %v, want three with key %s", rc.attempts, m.Key)
	}
	b, ok := rc.processed[m.Key]
	if len(rc.processed) != 1 || !ok {
		t.Fatalf("processed %d messages, want 1", len(rc.processed))
	}
	if b.Event != notify.RequestPending || b.Request.Justification != m.Request.Justification ||
		len(b.Request.Outstanding) != 1 || b.Request.Outstanding[0].Of[1] != "dave" || b.Marks[0] != "root_login" {
		t.Fatalf("receiver got %+v", b)
	}
}

func TestWebhookReceiverRefusesForgedTamperedAndReplayedDeliveries(t *testing.T) {
	// Capture one real delivery.
	var captured *http.Request
	var capturedBody []byte
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		captured = r.Clone(context.Background())
		capturedBody, _ = io.ReadAll(r.Body)
	}))
	defer capture.Close()
	c, err := New(Endpoint{Name: "ops-hook", Kind: Webhook, URL: capture.URL, Secret: secretFile(t, hookSecret), AllowPlainHTTP: true,
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Deliver(context.Background(), pending()); err != nil {
		t.Fatal(err)
	}
	if got := captured.Header.Get(notify.EventHeader); got != "request.pending" {
		t.Fatalf("%s = %q", notify.EventHeader, got)
	}
	replay := func(rc *receiver, body []byte) error {
		srv := httptest.NewServer(rc)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = captured.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.refusals) == 0 {
			return nil
		}
		return rc.refusals[0]
	}
	tampered := bytes.Replace(capturedBody, []byte(`"requester":"alice"`), []byte(`"requester":"mallory"`), 1)
	tests := []struct {
		name string
		rc   *receiver
		body []byte
		want error
	}{
		{"as delivered, in time", newReceiver(hookSecret, func() time.Time { return at.Add(time.Minute) }), capturedBody, nil},
		{"body changed", newReceiver(hookSecret, func() time.Time { return at }), tampered, notify.ErrSignatureMismatch},
		{"another endpoint's secret", newReceiver("another-secret-0123456789", func() time.Time { return at }), capturedBody, notify.ErrSignatureMismatch},
		{"replayed after the tolerance", newReceiver(hookSecret, func() time.Time { return at.Add(6 * time.Minute) }), capturedBody, notify.ErrTimestampOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := replay(tc.rc, tc.body); tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("receiver: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSlackAndTeamsPostTheirCardToTheURLFromASecret(t *testing.T) {
	for kind, rend := range map[Kind]func(*notify.Message) ([]byte, error){Slack: render.Slack, Teams: render.Teams} {
		t.Run(string(kind), func(t *testing.T) {
			var got []byte
			var header http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/services/T0/B0/token" {
					http.NotFound(w, r)
					return
				}
				got, _ = io.ReadAll(r.Body)
				header = r.Header
			}))
			defer srv.Close()
			t.Setenv("LOCKBOX_TEST_CHAT_URL", srv.URL+"/services/T0/B0/token")
			c, err := New(Endpoint{Name: "ops-chat", Kind: kind, URLSecret: "env:LOCKBOX_TEST_CHAT_URL", AllowPlainHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			m := pending()
			if err := c.Deliver(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			want, _ := rend(m)
			if !bytes.Equal(got, want) {
				t.Fatalf("posted\n%s\nwant\n%s", got, want)
			}
			if header.Get(notify.IdempotencyHeader) != m.Key || header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", header)
			}
		})
	}
}

func TestChatRateLimitIsRetryableAfterWhatTheReceiverAsks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	t.Setenv("LOCKBOX_TEST_CHAT_URL", srv.URL+"/hook")
	c, err := New(Endpoint{Name: "ops-chat", Kind: Slack, URLSecret: "env:LOCKBOX_TEST_CHAT_URL", AllowPlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Deliver(context.Background(), pending())
	wait, retry := notify.DefaultBackoff.Next(err, 1, 0)
	if !errors.Is(err, notify.ErrRateLimited) || !retry || wait != 30*time.Second {
		t.Fatalf("Deliver = %v; Next = %v, %v; want a retry after 30s", err, wait, retry)
	}
}

func TestEmailChannelSendsTheRenderedEmailInert(t *testing.T) {
	cert, key, roots := mailpittest.Certificate(t)
	mp := mailpittest.Start(t, mailpittest.Options{TLSCertFile: cert, TLSKeyFile: key, RequireSTARTTLS: true,
		Users: map[string]string{"lockbox": "pw-0123"}})
	c, err := New(Endpoint{Name: "mail", Kind: Email, SMTP: notify.SMTPConfig{
		Host: mp.Host, Port: mp.SMTPort, From: "lockbox@example.com", RootCAs: roots,
		Username: "lockbox", Password: secretFile(t, "pw-0123"), Timeout: 5 * time.Second,
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := pending()
	if err := c.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := mp.WaitForMessages(t, 1, 15*time.Second)
	got := mp.Message(t, msgs[0].ID)
	want, _ := render.Email(m)
	if got.Subject != want.Subject || got.MessageID != m.Key+"@example.com" || len(got.To) != 1 || got.To[0].Address != "carol@example.com" {
		t.Fatalf("arrived: subject %q, id %q, to %+v", got.Subject, got.MessageID, got.To)
	}
	if strings.Contains(got.HTML, "<script") || !strings.Contains(got.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part does not show the script tag as text:\n%s", got.HTML)
	}
	if !strings.Contains(got.Text, `\x1b[2J`) || strings.Contains(got.Text, "\x1b") {
		t.Errorf("text part does not show the escape as text:\n%q", got.Text)
	}
	if !strings.Contains(got.Text, "1 of carol, dave: managers of storage") || !strings.Contains(got.HTML, "1 of carol, dave: managers of storage") {
		t.Errorf("both parts must name who can approve")
	}
	if h := mp.Headers(t, msgs[0].ID)[notify.IdempotencyHeader]; len(h) != 1 || h[0] != m.Key {
		t.Errorf("%s = %v", notify.IdempotencyHeader, h)
	}

	// Nobody with an address: permanent, nothing sent.
	m.To = []notify.Recipient{{Name: "carol"}}
	if err := c.Deliver(context.Background(), m); !errors.Is(err, ErrNoAddress) || notify.Classify(err) != notify.Permanent {
		t.Fatalf("Deliver without addresses = %v, want a permanent ErrNoAddress", err)
	}
}

func TestInvalidMessagesArePermanentInEveryChannel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	t.Setenv("LOCKBOX_TEST_CHAT_URL", srv.URL)
	endpoints := []Endpoint{
		{Name: "h", Kind: Webhook, URL: srv.URL, Secret: secretFile(t, hookSecret), AllowPlainHTTP: true},
		{Name: "s", Kind: Slack, URLSecret: "env:LOCKBOX_TEST_CHAT_URL", AllowPlainHTTP: true},
		{Name: "t", Kind: Teams, URLSecret: "env:LOCKBOX_TEST_CHAT_URL", AllowPlainHTTP: true},
		{Name: "e", Kind: Email, SMTP: notify.SMTPConfig{Host: "127.0.0.1", Port: 9, From: "lockbox@example.com", Security: notify.Plain}},
	}
	for _, e := range endpoints {
		c, err := New(e)
		if err != nil {
			t.Fatal(err)
		}
		m := pending()
		m.Key = "not a key"
		if err := c.Deliver(context.Background(), m); !errors.Is(err, notify.ErrInvalidMessage) || notify.Classify(err) != notify.Permanent {
			t.Errorf("%s: Deliver = %v, want a permanent ErrInvalidMessage", e.Kind, err)
		}
	}
}

func TestEndpointConfigRefusals(t *testing.T) {
	t.Setenv("LOCKBOX_TEST_CHAT_URL", "http://hooks.example.com/services/x")
	t.Setenv("LOCKBOX_TEST_SHORT", "short")
	good := secretFile(t, hookSecret)
	tests := []struct {
		name string
		e    Endpoint
	}{
		{"no name", Endpoint{Kind: Webhook, URL: "https://h.example.com", Secret: good}},
		{"name with capitals", Endpoint{Name: "Ops", Kind: Webhook, URL: "https://h.example.com", Secret: good}},
		{"unknown kind", Endpoint{Name: "x", Kind: "pager", URL: "https://h.example.com"}},
		{"webhook over plain http", Endpoint{Name: "x", Kind: Webhook, URL: "http://h.example.com", Secret: good}},
		{"webhook without a secret", Endpoint{Name: "x", Kind: Webhook, URL: "https://h.example.com"}},
		{"webhook with a literal secret", Endpoint{Name: "x", Kind: Webhook, URL: "https://h.example.com", Secret: hookSecret}},
		{"webhook with a short secret", Endpoint{Name: "x", Kind: Webhook, URL: "https://h.example.com", Secret: "env:LOCKBOX_TEST_SHORT"}},
		{"slack with a literal url", Endpoint{Name: "x", Kind: Slack, URL: "https://hooks.slack.com/services/T/B/X"}},
		{"slack url over plain http", Endpoint{Name: "x", Kind: Slack, URLSecret: "env:LOCKBOX_TEST_CHAT_URL"}},
		{"teams url unset", Endpoint{Name: "x", Kind: Teams, URLSecret: "env:LOCKBOX_TEST_UNSET"}},
		{"email without smtp", Endpoint{Name: "x", Kind: Email}},
		{"email with a url", Endpoint{Name: "x", Kind: Email, URL: "https://h.example.com", SMTP: notify.SMTPConfig{Host: "m", From: "a@example.com"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.e)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
			if strings.Contains(err.Error(), "hooks.example.com/services/x") || strings.Contains(err.Error(), hookSecret) {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
}
