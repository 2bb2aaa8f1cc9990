package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
)

// SMTPSecurity says how the connection to the SMTP server is protected.
type SMTPSecurity string

const (
	// STARTTLS is required: a server that does not offer it, or whose
	// certificate is not trusted, gets nothing (the default).
	STARTTLS SMTPSecurity = "starttls"
	// Plain sends without TLS, and is accepted only for a server on a
	// loopback address (a local relay, tests).
	Plain SMTPSecurity = "none"
)

// Defaults of SMTPConfig.
const (
	DefaultSMTPPort    = 587
	DefaultSMTPTimeout = 30 * time.Second
)

// SMTPConfig configures an SMTP sender.
type SMTPConfig struct {
	Host string
	Port int // default 587
	// From is the sender's bare address.
	From string
	// Security is STARTTLS (the default) or Plain.
	Security SMTPSecurity
	// RootCAs, if set, are the only CAs trusted for the server's
	// certificate; nil means the system's.
	RootCAs *x509.CertPool
	// Username and Password, both or neither, log in with SMTP AUTH (the
	// strongest mechanism the server offers; PLAIN and LOGIN only over TLS).
	Username string
	Password SecretRef
	// HelloName is the name given in EHLO (default "localhost").
	HelloName string
	// MessageIDDomain is the right side of Message-IDs (default: From's
	// domain).
	MessageIDDomain string
	// Timeout bounds each step of a delivery (default 30s).
	Timeout time.Duration
}

// Email is one email to send.
type Email struct {
	To      []string // bare addresses
	Subject string
	Text    string // text/plain part
	HTML    string // text/html part
	// Key is the message's idempotency key: the Message-ID is
	// <Key@MessageIDDomain> and an Idempotency-Key header carries it, so
	// every attempt sends the same identity.
	Key  string
	Kind Kind
	Date time.Time
}

// SMTP sends emails. It is safe for concurrent use; every Send makes its
// own connection.
type SMTP struct {
	cfg      SMTPConfig
	password string
}

// NewSMTP checks cfg, fills in defaults and resolves the password.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Port == 0 {
		cfg.Port = DefaultSMTPPort
	}
	if cfg.Security == "" {
		cfg.Security = STARTTLS
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if err := checkSMTPConfig(&cfg); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	s := &SMTP{cfg: cfg}
	if cfg.Username != "" {
		pw, err := cfg.Password.Resolve()
		if err != nil {
			return nil, fmt.Errorf("smtp password: %w", err)
		}
		s.password = string(pw)
	}
	return s, nil
}

func checkSMTPConfig(cfg *SMTPConfig) error {
	if cfg.Host == "" {
		return errors.New("no host")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return fmt.Errorf("port %d out of range", cfg.Port)
	}
	if err := checkAddress(cfg.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	switch cfg.Security {
	case STARTTLS:
	case Plain:
		if !isLoopback(cfg.Host) {
			return fmt.Errorf("security %q is only for a server on a loopback address, not %s", Plain, cfg.Host)
		}
	default:
		return fmt.Errorf("security %q: want %q or %q", cfg.Security, STARTTLS, Plain)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return errors.New("username and password go together")
	}
	if cfg.MessageIDDomain == "" {
		cfg.MessageIDDomain = cfg.From[strings.LastIndexByte(cfg.From, '@')+1:]
	}
	if !validDomain(cfg.MessageIDDomain) {
		return fmt.Errorf("message ID domain %q: want letters, digits, '-' and '.'", cfg.MessageIDDomain)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Send delivers e in one SMTP transaction. Cancelling ctx ends the
// connection. Failures are *Failure values: a 5xx answer is permanent (a
// refused recipient: ErrRecipientRejected), 4xx and network errors are
// retryable, a missing STARTTLS or an untrusted certificate permanent.
func (s *SMTP) Send(ctx context.Context, e Email) error {
	msg, err := s.compose(e)
	if err != nil {
		return &Failure{Class: Permanent, Err: fmt.Errorf("%w: %v", ErrInvalidMessage, err)}
	}
	var mu sync.Mutex
	var conn net.Conn
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if conn != nil {
			conn.Close()
		}
	})
	defer stop()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: s.cfg.Timeout}
		c, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		conn = c
		return c, nil
	}
	client, err := mail.NewClient(s.cfg.Host, s.clientOptions(dial)...)
	if err != nil {
		return permanent(ErrRefused, "smtp client: %v", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return retryable(ErrNetwork, "sending email: %v", context.Cause(ctx))
		}
		return smtpFailure(err)
	}
	return nil
}

func (s *SMTP) clientOptions(dial mail.DialContextFunc) []mail.Option {
	tlsConfig := &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	policy := mail.TLSMandatory
	if s.cfg.Security == Plain {
		policy = mail.NoTLS
	}
	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTLSPolicy(policy),
		mail.WithTLSConfig(tlsConfig),
		mail.WithTimeout(s.cfg.Timeout),
		mail.WithHELO(s.cfg.HelloName),
		mail.WithDialContextFunc(dial),
	}
	if s.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.cfg.Username), mail.WithPassword(s.password))
	}
	return opts
}
