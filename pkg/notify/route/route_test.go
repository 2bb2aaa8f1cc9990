package route

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func request(kind notify.Kind, role string, resources ...string) *notify.Message {
	m := &notify.Message{Key: string(kind) + "-k", Kind: kind, Time: at, Request: &notify.Request{
		ID: "req-1", Requester: "alice", Role: notify.Role{Name: role}, Duration: time.Hour,
	}}
	for _, r := range resources {
		m.Request.Resources = append(m.Request.Resources, notify.Resource{Name: r})
	}
	return m
}

func session(kind notify.Kind, user, resource string, grant ...string) *notify.Message {
	m := request(kind, "reader", grant...)
	m.Request.Requester = user
	m.Session = &notify.Session{ID: "s-1", User: user, Resource: resource, Role: "reader", RequestID: "req-1", StartedAt: at}
	return m
}

func rcpt(name, email string) notify.Recipient { return notify.Recipient{Name: name, Email: email} }

func named(names ...string) []notify.Recipient {
	var out []notify.Recipient
	for _, n := range names {
		out = append(out, notify.Recipient{Name: n})
	}
	return out
}

func TestRouteEveryEventKind(t *testing.T) {
	r := New(parse(t, map[string]string{"people.yaml": people, "routes.yaml": routes}))
	alice := rcpt("alice", "alice@example.com")
	tests := []struct {
		name string
		msg  func() *notify.Message
		want []notify.Target
	}{
		{"request.pending goes to each approver named, by email, and to the prod channel naming nobody",
			func() *notify.Message {
				m := request(notify.RequestPending, "reader", "db-1")
				m.To = named("carol")
				return m
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("carol", "carol@example.com")}}, {Endpoint: "ops-slack"}}},
		{"request.pending without To asks everyone outstanding, never the requester",
			func() *notify.Message {
				m := request(notify.RequestPending, "admin", "customer-db")
				m.Request.Outstanding = []notify.Requirement{{Count: 1, Of: []string{"carol"}}, {Count: 1, Of: []string{"dave", "alice", "carol"}}}
				return m
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("carol", "carol@example.com"), rcpt("dave", "dave@example.com")}}}},
		{"request.pending to people without an address sends no email",
			func() *notify.Message {
				m := request(notify.RequestPending, "reader", "customer-db")
				m.To = named("bob", "olga")
				return m
			},
			nil},
		{"request.pending: tags the message carries count for a resource the policy no longer has",
			func() *notify.Message {
				m := request(notify.RequestPending, "reader", "gone")
				m.Request.Resources[0].Tags = []string{"prod"}
				return m
			},
			[]notify.Target{{Endpoint: "ops-slack"}}},
		{"request.decided goes to the requester", func() *notify.Message {
			m := request(notify.RequestDecided, "reader", "db-1")
			m.Request.Decision = &notify.Decision{Outcome: notify.Approved, By: "carol", At: at}
			return m
		}, []notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}}},
		{"request.expired goes to the requester", func() *notify.Message { return request(notify.RequestExpired, "reader", "db-1") },
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}}},
		{"grant.started goes to the requester", func() *notify.Message { return request(notify.GrantStarted, "reader", "db-1") },
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}}},
		{"grant.ending_soon goes to the requester", func() *notify.Message { return request(notify.GrantEndingSoon, "admin", "db-1") },
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}}},
		{"grant.ended goes to the requester", func() *notify.Message { return request(notify.GrantEnded, "reader", "customer-db") },
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}}},
		{"grant.revoked of a reader grant: the requester by email", func() *notify.Message { return request(notify.GrantRevoked, "reader", "db-1") },
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}}},
		{"grant.revoked of an admin grant: also both chats, naming the requester without her address",
			func() *notify.Message { return request(notify.GrantRevoked, "admin", "db-1") },
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}, {Endpoint: "ops-slack", To: named("alice")}, {Endpoint: "teams", To: named("alice")}}},
		{"session.started on the customer's resource: its tenant administrators with an address, and the SIEM",
			func() *notify.Message {
				return session(notify.SessionStarted, "alice", "customer-db", "db-1", "customer-db")
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("tina", "tina@customer.example")}}, {Endpoint: "siem"}}},
		{"session.ended on another resource of the same grant: the tenant hears nothing",
			func() *notify.Message { return session(notify.SessionEnded, "alice", "db-1", "db-1", "customer-db") },
			[]notify.Target{{Endpoint: "siem"}}},
		{"session.ended of a tenant administrator: not told of her own session",
			func() *notify.Message { return session(notify.SessionEnded, "tina", "customer-db") },
			[]notify.Target{{Endpoint: "siem"}}},
		{"message.dead goes to the SIEM channel", func() *notify.Message {
			return &notify.Message{Key: "d", Kind: notify.MessageDead, Time: at, Dead: &notify.Dead{Key: "x", Kind: notify.RequestPending, Channel: "mail"}}
		}, []notify.Target{{Endpoint: "siem"}}},
		{"request.escalated goes to the escalation group named, never the requester",
			func() *notify.Message {
				m := request(notify.RequestEscalated, "reader", "db-1")
				m.To = named("dave", "alice")
				return m
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("dave", "dave@example.com")}}}},
		{"eligibility.ending goes to the people who lose it and their managers",
			func() *notify.Message {
				return &notify.Message{Key: "e", Kind: notify.EligibilityEnding, Time: at, To: named("alice", "carol"),
					Eligibility: &notify.Eligibility{Team: "storage", Roles: []string{"reader"}, Resources: []string{"db-1"}, Until: at}}
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice, rcpt("carol", "carol@example.com")}}}},
		{"eligibility.ending filtered by a role it gives among others",
			func() *notify.Message {
				return &notify.Message{Key: "e", Kind: notify.EligibilityEnding, Time: at, To: named("alice"),
					Eligibility: &notify.Eligibility{Team: "storage", Roles: []string{"reader", "admin"}, Resources: []string{"db-1"}, Until: at}}
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{alice}}, {Endpoint: "teams"}}},
		{"user.deprovisioned goes to the person's managers",
			func() *notify.Message {
				return &notify.Message{Key: "u", Kind: notify.UserDeprovisioned, Time: at, To: named("carol"),
					Deprovisioned: &notify.Deprovisioned{User: "alice", By: "scim", Reason: "deactivated"}}
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("carol", "carol@example.com")}}}},
		{"break_glass goes to the auditors by email, never to the person who used it, and to the SIEM",
			func() *notify.Message {
				return &notify.Message{Key: "b", Kind: notify.BreakGlass, Time: at,
					BreakGlass: &notify.BreakGlassUse{Event: notify.BreakGlassSession, User: "dave", Role: "admin", Resource: "db-1", SessionID: "bg-1"}}
			},
			[]notify.Target{{Endpoint: "siem"}}},
		{"break_glass of someone else reaches the auditors",
			func() *notify.Message {
				return &notify.Message{Key: "b", Kind: notify.BreakGlass, Time: at,
					BreakGlass: &notify.BreakGlassUse{Event: notify.BreakGlassIssued, User: "alice", Role: "admin", Resource: "db-1"}}
			},
			[]notify.Target{{Endpoint: "mail", To: []notify.Recipient{rcpt("dave", "dave@example.com")}}, {Endpoint: "siem"}}},
		{"an unknown kind goes nowhere", func() *notify.Message { return request("request.approved", "reader", "db-1") }, nil},
		{"a request event without its request goes nowhere by name",
			func() *notify.Message { return &notify.Message{Key: "k", Kind: notify.GrantEnded, Time: at} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Route(tt.msg())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Route (-want +got):\n%s", diff)
			}
			if again := r.Route(tt.msg()); !cmp.Equal(got, again) {
				t.Errorf("Route is not deterministic: %v then %v", got, again)
			}
		})
	}
	if got := r.Route(nil); got != nil {
		t.Errorf("Route(nil) = %v", got)
	}
}

func TestRouteWithoutNotificationsSendsNothing(t *testing.T) {
	r := New(parse(t, map[string]string{"people.yaml": people}))
	for _, k := range notify.Kinds {
		m := request(k, "admin", "db-1", "customer-db")
		m.To = named("carol")
		if got := r.Route(m); got != nil {
			t.Errorf("%s: Route = %v, want nothing", k, got)
		}
	}
}

func TestRouteFilters(t *testing.T) {
	filters := `notifications:
  endpoints:
    - {name: hook, kind: webhook, url: "https://h.example.com/", secret: "env:X"}
  routes:
    - {events: [grant.started], roles: [admin], tags: [customer, prod], resources: [db-1], endpoints: [hook]}
`
	r := New(parse(t, map[string]string{"people.yaml": people, "f.yaml": filters}))
	tests := []struct {
		role      string
		resources []string
		want      bool
	}{
		{"admin", []string{"db-1"}, true},
		{"admin", []string{"customer-db", "db-1"}, true},
		{"reader", []string{"db-1"}, false},       // role
		{"admin", []string{"customer-db"}, false}, // resource (though tagged customer)
		{"admin", nil, false},
	}
	for _, tt := range tests {
		got := r.Route(request(notify.GrantStarted, tt.role, tt.resources...)) != nil
		if got != tt.want {
			t.Errorf("%s on %v: routed %v, want %v", tt.role, tt.resources, got, tt.want)
		}
	}
}

func TestRouteMergesRoutesToOneEndpoint(t *testing.T) {
	twice := `notifications:
  endpoints:
    - {name: chat, kind: slack, url_secret: "env:X"}
  routes:
    - {events: [request.decided], to: channel, endpoints: [chat]}
    - {events: [request.decided], endpoints: [chat]}
    - {events: [request.decided], roles: [reader], endpoints: [chat]}
`
	r := New(parse(t, map[string]string{"people.yaml": people, "t.yaml": twice}))
	got := r.Route(request(notify.RequestDecided, "reader", "db-1"))
	if diff := cmp.Diff([]notify.Target{{Endpoint: "chat", To: named("alice")}}, got); diff != "" {
		t.Errorf("one target per endpoint (-want +got):\n%s", diff)
	}
}

func TestPolicyNamesTheEventKindsNotifyKnows(t *testing.T) {
	var kinds []string
	for _, k := range notify.Kinds {
		kinds = append(kinds, string(k))
	}
	if !slices.Equal(kinds, policy.NotificationEvents) {
		t.Errorf("policy.NotificationEvents = %v, notify.Kinds = %v", policy.NotificationEvents, kinds)
	}
}
