//go:build outboxtest

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
	"github.com/lockbox-ssh/lockbox/pkg/outbox"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// Built only with -tags outboxtest, for the outbox's fault tests and
// benchmarks with real CA processes: every message goes to one signed
// webhook, LOCKBOX_TEST_WEBHOOK_URL (plain http allowed) with the secret
// in LOCKBOX_TEST_WEBHOOK_SECRET. Release builds use routing.go.

type routing struct {
	router   notify.Router
	channels outbox.Channels
}

func notificationRouting(*policy.Holder) (routing, error) {
	url := os.Getenv("LOCKBOX_TEST_WEBHOOK_URL")
	if url == "" {
		return routing{router: routeAll{}, channels: outbox.ChannelMap{}}, nil
	}
	c, err := channel.New(channel.Endpoint{Name: "test-hook", Kind: channel.Webhook, URL: url,
		Secret: "env:LOCKBOX_TEST_WEBHOOK_SECRET", AllowPlainHTTP: true, HTTP: notify.HTTPConfig{Timeout: 5 * time.Second}})
	if err != nil {
		return routing{}, fmt.Errorf("test webhook: %w", err)
	}
	return routing{router: routeAll{}, channels: outbox.ChannelMap{"test-hook": c}}, nil
}

type routeAll struct{}

func (routeAll) Route(m *notify.Message) []notify.Target {
	return []notify.Target{{Endpoint: "test-hook", To: m.To}}
}
