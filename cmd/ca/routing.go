//go:build !outboxtest

package main

import (
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/outbox"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// routing is where notifications go: the router the request path asks
// (it queues one outbox row per target; nil queues nothing and skips the
// work of building messages) and the endpoints' channels the delivery
// loop sends through.
type routing struct {
	router   notify.Router
	channels outbox.Channels
}

// notificationRouting is the one place the CA decides how notifications
// are routed. Routes and endpoints are not read from the policy yet, so
// this routes nothing: no router (no row is queued) and no endpoint (the
// loop finds nothing to deliver). A router built from the policy's
// notifications section, and the channels of its endpoints, go here.
func notificationRouting(*policy.Holder) (routing, error) {
	return routing{router: nil, channels: outbox.ChannelMap{}}, nil
}
