// Package channel delivers notify.Messages to configured endpoints: a
// generic webhook (signed), a Slack or Microsoft Teams incoming webhook,
// or email over SMTP. Each Channel renders with notify/render and sends
// with notify's transports; every failure is a classified *notify.Failure
// for the caller's retry loop (notify.Backoff.Next).
//
// Endpoints are built once from an Endpoint (New), which checks the
// configuration and resolves secrets from files or the environment.
package channel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// Channel delivers messages to one endpoint. Deliver is safe for
// concurrent use and may be called again with the same message: every
// attempt carries the same idempotency key.
type Channel interface {
	Name() string
	Deliver(ctx context.Context, m *notify.Message) error
}

// Kind is an endpoint's kind.
type Kind string

// The kinds of endpoint.
const (
	Webhook Kind = "webhook"
	Slack   Kind = "slack"
	Teams   Kind = "teams"
	Email   Kind = "email"
)

// MinSecretLen is the shortest webhook signing secret accepted.
const MinSecretLen = 16

// ErrConfig is an endpoint configuration that cannot work.
var ErrConfig = errors.New("notification endpoint")

// Endpoint configures one channel.
type Endpoint struct {
	// Name identifies the endpoint in routing, logs and dead-message
	// notices: 1 to 64 of a-z, 0-9, '.', '_', '-'.
	Name string
	Kind Kind
	// URL is a webhook's address. Slack and Teams take URLSecret instead:
	// their URL is itself the credential.
	URL       string
	URLSecret notify.SecretRef
	// Secret is a webhook's signing secret (at least MinSecretLen bytes).
	Secret notify.SecretRef
	// AllowPlainHTTP permits an http:// URL, for a receiver on this
	// machine or tests.
	AllowPlainHTTP bool
	// HTTP tunes the webhook, Slack and Teams transport.
	HTTP notify.HTTPConfig
	// SMTP configures an email endpoint.
	SMTP notify.SMTPConfig
	// Now is the clock for signatures (default time.Now).
	Now func() time.Time
}

// New checks e, resolves its secrets and returns its channel.
func New(e Endpoint) (Channel, error) {
	if !validName(e.Name) {
		return nil, fmt.Errorf("%w %q: a name is 1 to 64 of a-z, 0-9, '.', '_', '-'", ErrConfig, e.Name)
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	var c Channel
	var err error
	switch e.Kind {
	case Webhook:
		c, err = newWebhook(e)
	case Slack:
		c, err = newChat(e, renderSlack)
	case Teams:
		c, err = newChat(e, renderTeams)
	case Email:
		c, err = newEmail(e)
	default:
		err = fmt.Errorf("kind %q: want %s, %s, %s or %s", e.Kind, Webhook, Slack, Teams, Email)
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrConfig, e.Name, err)
	}
	return c, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// invalid marks a message the renderers refused: sending it again will
// not help.
func invalid(err error) error {
	return &notify.Failure{Class: notify.Permanent, Err: err}
}
