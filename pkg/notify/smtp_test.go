package notify

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/mailpittest"
)

const smtpWait = 15 * time.Second

func testEmail(key string, to ...string) Email {
	return Email{
		To:      to,
		Subject: "Approval needed: alice wants db-admin on db1 — réq",
		Text:    "alice asks for db-admin on db1 for 2h.\nJustification: rotate keys\n",
		HTML:    "<p>alice asks for <b>db-admin</b> on db1 for 2h.</p>",
		Key:     key,
		Kind:    RequestPending,
		Date:    time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	}
}

func secretEnv(t *testing.T, value string) SecretRef {
	t.Setenv("LOCKBOX_TEST_SMTP_PASSWORD", value)
	return "env:LOCKBOX_TEST_SMTP_PASSWORD"
}

func TestSMTPDeliversBothPartsOverRequiredSTARTTLSWithAuth(t *testing.T) {
	cert, key, roots := mailpittest.Certificate(t)
	mp := mailpittest.Start(t, mailpittest.Options{
		TLSCertFile: cert, TLSKeyFile: key, RequireSTARTTLS: true,
		Users: map[string]string{"lockbox": "pw-0123"},
	})
	s, err := NewSMTP(SMTPConfig{
		Host: mp.Host, Port: mp.SMTPort, From: "lockbox@example.com", RootCAs: roots,
		Username: "lockbox", Password: secretEnv(t, "pw-0123"), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey(RequestPending, "req-1", "carol")
	if err := s.Send(context.Background(), testEmail(k, "carol@example.com", "dave@example.com")); err != nil {
		t.Fatalf("Send = %v", err)
	}
	msgs := mp.WaitForMessages(t, 1, smtpWait)
	m := mp.Message(t, msgs[0].ID)
	if m.Subject != "Approval needed: alice wants db-admin on db1 — réq" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if len(m.To) != 2 || m.To[0].Address != "carol@example.com" || m.To[1].Address != "dave@example.com" {
		t.Errorf("To = %+v", m.To)
	}
	if m.From.Address != "lockbox@example.com" || m.Username != "lockbox" {
		t.Errorf("From = %+v, logged in as %q", m.From, m.Username)
	}
	if !strings.Contains(m.Text, "Justification: rotate keys") || !strings.Contains(m.HTML, "<b>db-admin</b>") {
		t.Errorf("parts: text %q, html %q", m.Text, m.HTML)
	}
	if m.MessageID != k+"@example.com" {
		t.Errorf("Message-ID = %q, want %s@example.com", m.MessageID, k)
	}
	h := mp.Headers(t, msgs[0].ID)
	for name, want := range map[string]string{"Idempotency-Key": k, "Lockbox-Event": "request.pending", "Auto-Submitted": "auto-generated"} {
		if got := h[name]; len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	raw := mp.Raw(t, msgs[0].ID)
	plain, html := strings.Index(raw, "text/plain"), strings.Index(raw, "text/html")
	if !strings.Contains(raw, "multipart/alternative") || plain < 0 || html < plain {
		t.Errorf("want multipart/alternative with text/plain before text/html:\n%s", raw)
	}
}

func TestSMTPRefusesToSendWithoutTLSOrToAnUntrustedServer(t *testing.T) {
	cert, key, roots := mailpittest.Certificate(t)
	noTLS := mailpittest.Start(t, mailpittest.Options{})
	withTLS := mailpittest.Start(t, mailpittest.Options{TLSCertFile: cert, TLSKeyFile: key, RequireSTARTTLS: true})
	tests := []struct {
		name   string
		server *mailpittest.Server
		roots  bool
		want   error
	}{
		{"server without STARTTLS", noTLS, true, ErrNoStartTLS},
		{"certificate not trusted", withTLS, false, ErrCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := SMTPConfig{Host: tc.server.Host, Port: tc.server.SMTPort, From: "lockbox@example.com", Timeout: 5 * time.Second}
			if tc.roots {
				cfg.RootCAs = roots
			}
			s, err := NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), testEmail(NewKey(RequestPending, tc.name), "carol@example.com"))
			if !errors.Is(err, tc.want) || Classify(err) != Permanent {
				t.Fatalf("Send = %v, want a permanent %v", err, tc.want)
			}
			if n := len(tc.server.Messages(t)); n != 0 {
				t.Fatalf("%d messages arrived", n)
			}
		})
	}
}

func TestSMTPClassifiesRefusals(t *testing.T) {
	cert, key, roots := mailpittest.Certificate(t)
	mp := mailpittest.Start(t, mailpittest.Options{
		TLSCertFile: cert, TLSKeyFile: key, RequireSTARTTLS: true,
		Users:             map[string]string{"lockbox": "pw-0123"},
		AllowedRecipients: `@example\.com$`,
		Chaos:             true,
	})
	send := func(t *testing.T, password string, e Email) error {
		s, err := NewSMTP(SMTPConfig{
			Host: mp.Host, Port: mp.SMTPort, From: "lockbox@example.com", RootCAs: roots,
			Username: "lockbox", Password: secretEnv(t, password), Timeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(context.Background(), e)
	}
	t.Run("a refused recipient is permanent", func(t *testing.T) {
		err := send(t, "pw-0123", testEmail(NewKey(RequestPending, "r1"), "carol@elsewhere.org"))
		if !errors.Is(err, ErrRecipientRejected) || Classify(err) != Permanent {
			t.Fatalf("Send = %v, want a permanent ErrRecipientRejected", err)
		}
	})
	t.Run("a wrong password is permanent", func(t *testing.T) {
		err := send(t, "wrong", testEmail(NewKey(RequestPending, "r2"), "carol@example.com"))
		if !errors.Is(err, ErrRefused) || Classify(err) != Permanent {
			t.Fatalf("Send = %v, want a permanent ErrRefused", err)
		}
	})
	t.Run("a temporary refusal is retryable, and the retry keeps the message's identity", func(t *testing.T) {
		k := NewKey(RequestPending, "r3")
		mp.SetChaos(t, 451, 100)
		err := send(t, "pw-0123", testEmail(k, "carol@example.com"))
		mp.SetChaos(t, 451, 0)
		if !errors.Is(err, ErrUnavailable) || Classify(err) != Retryable {
			t.Fatalf("Send = %v, want a retryable ErrUnavailable", err)
		}
		if err := send(t, "pw-0123", testEmail(k, "carol@example.com")); err != nil {
			t.Fatalf("retry: %v", err)
		}
		msgs := mp.WaitForMessages(t, 1, smtpWait)
		if len(msgs) != 1 || msgs[0].MessageID != k+"@example.com" {
			t.Fatalf("arrived: %+v, want one message with Message-ID %s@example.com", msgs, k)
		}
	})
}

func TestSMTPServerDownIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "lockbox@example.com", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testEmail(NewKey(RequestPending, "down"), "carol@example.com"))
	if !errors.Is(err, ErrNetwork) || Classify(err) != Retryable {
		t.Fatalf("Send = %v, want a retryable ErrNetwork", err)
	}
}

func TestSMTPPlainOnlyOnLoopback(t *testing.T) {
	mp := mailpittest.Start(t, mailpittest.Options{})
	if _, err := NewSMTP(SMTPConfig{Host: "mail.example.com", From: "lockbox@example.com", Security: Plain}); err == nil {
		t.Fatal("plain SMTP to a remote host was accepted")
	}
	s, err := NewSMTP(SMTPConfig{Host: mp.Host, Port: mp.SMTPort, From: "lockbox@example.com", Security: Plain, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), testEmail(NewKey(RequestPending, "plain"), "carol@example.com")); err != nil {
		t.Fatalf("Send = %v", err)
	}
	mp.WaitForMessages(t, 1, smtpWait)
}

func TestSMTPConfigAndEmailRefusals(t *testing.T) {
	bad := []SMTPConfig{
		{From: "lockbox@example.com"},
		{Host: "mail.example.com", From: "Lockbox <lockbox@example.com>"},
		{Host: "mail.example.com", From: "lockbox@example.com", Port: 70000},
		{Host: "mail.example.com", From: "lockbox@example.com", Security: "ssl"},
		{Host: "mail.example.com", From: "lockbox@example.com", Username: "u"},
		{Host: "mail.example.com", From: "lockbox@example.com", Username: "u", Password: "literal-password"},
		{Host: "mail.example.com", From: "lockbox@example.com", MessageIDDomain: "a b"},
	}
	for _, cfg := range bad {
		if _, err := NewSMTP(cfg); err == nil {
			t.Errorf("NewSMTP(%+v) accepted", cfg)
		}
	}
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: 9, From: "lockbox@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]Email{
		"no key":        testEmail("", "carol@example.com"),
		"no recipients": testEmail("k"),
		"bad address":   testEmail("k", "carol@example.com\r\nBcc: eve@example.com"),
		"subject line breaks": func() Email {
			e := testEmail("k", "carol@example.com")
			e.Subject = "a\r\nBcc: eve@example.com"
			return e
		}(),
	} {
		if err := s.Send(context.Background(), e); !errors.Is(err, ErrInvalidMessage) || Classify(err) != Permanent {
			t.Errorf("%s: Send = %v, want a permanent ErrInvalidMessage", name, err)
		}
	}
}

func TestSMTPStopsWhenTheContextEnds(t *testing.T) {
	// A server that greets, reads EHLO, and then never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	waiting := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("220 stalling ESMTP\r\n"))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && strings.HasPrefix(line, "EHLO") {
			waiting <- c // the client now waits for an answer
		}
	}()
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "lockbox@example.com", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, testEmail(NewKey(RequestPending, "stall"), "carol@example.com")) }()
	select {
	case c := <-waiting:
		defer c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("Send never said EHLO")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNetwork) || Classify(err) != Retryable {
			t.Fatalf("Send = %v, want a retryable ErrNetwork", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its context was cancelled (its timeout is 1m)")
	}
}
