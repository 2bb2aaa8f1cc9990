package route

import (
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// BenchmarkRoute routes a pending request that matches two routes, the
// work the outbox adds to each transaction that notifies.
func BenchmarkRoute(b *testing.B) {
	r := New(parse(b, map[string]string{"people.yaml": people, "routes.yaml": routes}))
	m := request(notify.RequestPending, "reader", "db-1", "customer-db")
	m.To = named("carol", "dave", "tina")
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Route(m)) != 2 {
			b.Fatal("want 2 targets")
		}
	}
}

// BenchmarkRouteSession routes a session event, which asks the policy for
// the resource's approvers.
func BenchmarkRouteSession(b *testing.B) {
	r := New(parse(b, map[string]string{"people.yaml": people, "routes.yaml": routes}))
	m := session(notify.SessionStarted, "alice", "customer-db", "db-1", "customer-db")
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Route(m)) != 2 {
			b.Fatal("want 2 targets")
		}
	}
}
