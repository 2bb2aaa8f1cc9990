//go:build !outboxtest

package main

import (
	"github.com/lockbox-ssh/lockbox/pkg/notify"
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
// are routed. Routes and endpoints are not read from the policy yet, so
// this routes nothing: no row is queued and the loop finds nothing to
// deliver.
func notificationRouting(*policy.Holder) (routing, error) {
	return routing{router: routeNothing{}, channels: outbox.ChannelMap{}}, nil
}

// routeNothing is a notify.Router with no routes.
type routeNothing struct{}

func (routeNothing) Route(*notify.Message) []notify.Target { return nil }
