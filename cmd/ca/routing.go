//go:build !outboxtest

package main

import (
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/route"
	"github.com/lockbox-ssh/lockbox/pkg/outbox"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// routing is where notifications go: the router the request path asks
// (it queues one outbox row per target) and the endpoints' channels the
// delivery loop sends through.
type routing struct {
	router   notify.Router
	channels outbox.Channels
}

// notificationRouting is the one place the CA decides how notifications
// are routed: by the notifications section of whatever policy h holds
// now, through the endpoints it names (both follow reloads).
func notificationRouting(h *policy.Holder) (routing, error) {
	return routing{router: route.NewLive(h), channels: route.NewLiveChannels(h, route.Options{})}, nil
}
