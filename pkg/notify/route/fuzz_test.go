package route

import (
	"slices"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// FuzzRouteSection parses an arbitrary notifications section beside the
// test policy and routes a message of every kind through what it
// accepted: no crash, and every Target keeps Route's promises.
func FuzzRouteSection(f *testing.F) {
	f.Add(routes)
	f.Add("notifications:\n  endpoints:\n    - {name: m, kind: email, smtp: {host: h, from: a@b.c}}\n  routes:\n    - {events: [session.started], resources: [customer-db], endpoints: [m]}\n")
	f.Add("notifications:\n  endpoints:\n    - {name: s, kind: slack, url_secret: \"env:S\"}\n  routes:\n    - {events: [request.pending, message.dead], to: channel, endpoints: [s]}\n")
	f.Add("notifications:\n  routes: []\n")
	base := parse(f, map[string]string{"people.yaml": people}).Files()
	f.Fuzz(func(t *testing.T, section string) {
		files := map[string][]byte{"n.yaml": []byte(section)}
		for name, data := range base {
			files[name] = data
		}
		p, err := policy.Parse(files)
		if err != nil {
			return
		}
		r := New(p)
		for _, k := range notify.Kinds {
			for _, m := range []*notify.Message{
				request(k, "admin", "db-1", "customer-db"),
				session(k, "alice", "customer-db", "db-1", "customer-db"),
				{Key: "d", Kind: k, Time: at, Dead: &notify.Dead{Key: "x"}},
			} {
				m.To = named("carol", "alice", "bob")
				checkTargets(t, p, m, r.Route(m))
			}
		}
	})
}

func checkTargets(t *testing.T, p *policy.Policy, m *notify.Message, targets []notify.Target) {
	t.Helper()
	if !slices.IsSortedFunc(targets, func(a, b notify.Target) int { return strings.Compare(a.Endpoint, b.Endpoint) }) {
		t.Errorf("%s: targets not sorted by endpoint: %v", m.Kind, targets)
	}
	for i, tg := range targets {
		if i > 0 && targets[i-1].Endpoint == tg.Endpoint {
			t.Errorf("%s: endpoint %s twice", m.Kind, tg.Endpoint)
		}
		e := p.Notifications.Endpoint(tg.Endpoint)
		if e == nil {
			t.Errorf("%s: target %s is no endpoint", m.Kind, tg.Endpoint)
			continue
		}
		if e.Kind == policy.EndpointEmail && len(tg.To) == 0 {
			t.Errorf("%s: email target %s addresses nobody", m.Kind, tg.Endpoint)
		}
		for _, to := range tg.To {
			if (e.Kind == policy.EndpointEmail) != (to.Email != "") {
				t.Errorf("%s: %s endpoint %s gets %+v", m.Kind, e.Kind, tg.Endpoint, to)
			}
			if m.Kind == notify.RequestPending && to.Name == m.Request.Requester {
				t.Errorf("%s: the requester is asked to approve", m.Kind)
			}
		}
	}
}
