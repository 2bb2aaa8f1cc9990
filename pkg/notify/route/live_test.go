package route

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

func TestLiveRoutesByThePolicyHeldNow(t *testing.T) {
	if got := NewLive(policy.NewHolder(nil)).Route(request(notify.GrantEnded, "reader", "db-1")); got != nil {
		t.Errorf("no policy: %v", got)
	}
	h := policy.NewHolder(parse(t, map[string]string{"people.yaml": people}))
	l := NewLive(h)
	m := request(notify.GrantEnded, "reader", "db-1")
	if got := l.Route(m); got != nil {
		t.Errorf("before the reload: %v", got)
	}
	h.Set(parse(t, map[string]string{"people.yaml": people, "routes.yaml": routes}))
	want := []notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("alice", "alice@example.com")}}}
	if diff := cmp.Diff(want, l.Route(m)); diff != "" {
		t.Errorf("after the reload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, l.Route(m)); diff != "" {
		t.Errorf("again (-want +got):\n%s", diff)
	}
}
