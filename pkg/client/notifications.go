package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Notifications returns the notification outbox's counts and its queued
// messages, or with dead its dead ones (auditors).
func (c *Client) Notifications(ctx context.Context, dead bool) (*wire.Notifications, error) {
	q := url.Values{}
	if dead {
		q.Set("dead", "1")
	}
	var out wire.Notifications
	return &out, c.do(ctx, http.MethodGet, "/v1/notifications", q, nil, &out)
}
