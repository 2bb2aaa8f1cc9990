package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/render"
)

// webhook is a generic, signed webhook.
type webhook struct {
	name   string
	url    string
	secret []byte
	poster *notify.Poster
	now    func() time.Time
}

func newWebhook(e Endpoint) (*webhook, error) {
	if e.URLSecret != "" {
		return nil, errors.New("a webhook takes url (its address is not secret) and secret (to sign)")
	}
	if err := notify.CheckEndpointURL(e.URL, e.AllowPlainHTTP); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	secret, err := e.Secret.Resolve()
	if err != nil {
		return nil, fmt.Errorf("signing secret: %w", err)
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("signing secret shorter than %d bytes (make one with: openssl rand -hex 32)", MinSecretLen)
	}
	return &webhook{name: e.Name, url: e.URL, secret: secret, poster: notify.NewPoster(e.HTTP), now: e.Now}, nil
}

func (w *webhook) Name() string { return w.name }

// Deliver posts the webhook body, signed at the time of this attempt, so
// a retry is not refused as stale by the receiver's tolerance.
func (w *webhook) Deliver(ctx context.Context, m *notify.Message) error {
	body, err := render.Webhook(m)
	if err != nil {
		return invalid(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(notify.SignatureHeader, notify.Sign(w.secret, body, w.now()))
	h.Set(notify.IdempotencyHeader, m.Key)
	h.Set(notify.EventHeader, string(m.Kind))
	return w.poster.Post(ctx, w.url, body, h)
}

// chat is a Slack or Teams incoming webhook.
type chat struct {
	name   string
	url    string
	render func(*notify.Message) ([]byte, error)
	poster *notify.Poster
}

var (
	renderSlack = render.Slack
	renderTeams = render.Teams
)

func newChat(e Endpoint, r func(*notify.Message) ([]byte, error)) (*chat, error) {
	if e.URL != "" || e.Secret != "" {
		return nil, fmt.Errorf("%s takes url_secret only: its URL is the credential and is kept in a file or the environment", e.Kind)
	}
	raw, err := e.URLSecret.Resolve()
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	url := string(raw)
	if err := notify.CheckEndpointURL(url, e.AllowPlainHTTP); err != nil {
		// Not the URL itself in the error: it is a secret.
		return nil, fmt.Errorf("url from %s: %w", e.URLSecret, err)
	}
	return &chat{name: e.Name, url: url, render: r, poster: notify.NewPoster(e.HTTP)}, nil
}

func (c *chat) Name() string { return c.name }

func (c *chat) Deliver(ctx context.Context, m *notify.Message) error {
	body, err := c.render(m)
	if err != nil {
		return invalid(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(notify.IdempotencyHeader, m.Key)
	return c.poster.Post(ctx, c.url, body, h)
}
