// Package route decides, from the policy's notifications section, where
// each notification goes (Router, a notify.Router), and builds the
// channels its endpoints name (Channels).
//
// Routing is pure: Route reads the policy it was made with and the
// message, does no I/O, and returns the same targets for the same
// message and policy, so the outbox can call it in the transaction that
// records the change. Building the channels is where I/O happens: it
// resolves every endpoint's secrets, and fails with the file and line of
// the endpoint when one cannot be resolved.
package route

import (
	"slices"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// Router routes messages by one policy's notifications section. Make a
// new one when the policy is reloaded; it is safe for concurrent use.
type Router struct {
	pol *policy.Policy
	// byKind are the routes that name each event kind, in policy order.
	byKind map[notify.Kind][]*policy.NotifyRoute
	kinds  map[string]string // endpoint name -> kind
}

var _ notify.Router = (*Router)(nil)

// New returns the router of p's notifications section. A policy without
// one routes nothing.
func New(p *policy.Policy) *Router {
	r := &Router{pol: p, byKind: map[notify.Kind][]*policy.NotifyRoute{}, kinds: map[string]string{}}
	nt := &p.Notifications
	for i := range nt.Routes {
		rt := &nt.Routes[i]
		for _, ev := range rt.Events {
			r.byKind[notify.Kind(ev)] = append(r.byKind[notify.Kind(ev)], rt)
		}
	}
	for _, e := range nt.Endpoints {
		r.kinds[e.Name] = e.Kind
	}
	return r
}

// Route returns where m goes: one Target per endpoint that a matching
// route names, sorted by endpoint name. A route to: people addresses the
// people m concerns (see Concerned); an email endpoint gets only those of
// them with an address in policy, and no Target when none has one. Other
// endpoints get the people by name only (never their addresses), and a
// Target even when nobody is named: their channel hears of it. Several
// routes to one endpoint make one Target with everyone they address. A
// message no route matches goes nowhere (nil).
func (r *Router) Route(m *notify.Message) []notify.Target {
	if m == nil {
		return nil
	}
	routes := r.byKind[m.Kind]
	if len(routes) == 0 {
		return nil
	}
	f := r.facts(m)
	people := map[string]bool{} // endpoint -> some route addresses people there
	for _, rt := range routes {
		if !f.match(rt) {
			continue
		}
		for _, ep := range rt.Endpoints {
			people[ep] = people[ep] || rt.To == policy.ToPeople
		}
	}
	if len(people) == 0 {
		return nil
	}
	var concerned []notify.Recipient
	for _, ep := range people {
		if ep {
			concerned = r.Concerned(m)
			break
		}
	}
	var out []notify.Target
	for _, ep := range sortedKeys(people) {
		t := notify.Target{Endpoint: ep}
		for _, p := range concerned {
			switch {
			case !people[ep]:
			case r.kinds[ep] == policy.EndpointEmail:
				if p.Email != "" {
					t.To = append(t.To, p)
				}
			default:
				t.To = append(t.To, notify.Recipient{Name: p.Name})
			}
		}
		if r.kinds[ep] == policy.EndpointEmail && len(t.To) == 0 {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Concerned returns the people m concerns, sorted by name, each with
// their address in policy if any:
//
//   - request.pending: the people who can still approve it: m.To as the
//     caller gives it (workflow's WhoCanApprove), or, when m.To is empty,
//     everyone named in m.Request.Outstanding;
//   - request.decided, request.expired and the grant events: the requester;
//   - session.started and session.ended: the approvers of the session's
//     resource's own approval rule (a customer's tenant administrators),
//     from the policy; nobody for a resource without one;
//   - request.escalated: the escalation group's people, eligibility.ending:
//     the people who lose it and their team's managers,
//     user.deprovisioned: the person's managers (m.To as the workflow
//     gives it);
//   - break_glass: the policy's auditors (settings: auditors), since
//     nobody approved the access;
//   - message.dead: nobody.
//
// Never the person who asked (for requests) or who holds the session.
func (r *Router) Concerned(m *notify.Message) []notify.Recipient {
	var names []string
	var self string
	switch m.Kind {
	case notify.RequestPending:
		if m.Request == nil {
			return nil
		}
		self = m.Request.Requester
		for _, p := range m.To {
			names = append(names, p.Name)
		}
		if len(names) == 0 {
			for _, o := range m.Request.Outstanding {
				names = append(names, o.Of...)
			}
		}
	case notify.RequestDecided, notify.RequestExpired,
		notify.GrantStarted, notify.GrantEndingSoon, notify.GrantEnded, notify.GrantRevoked:
		if m.Request != nil {
			names = []string{m.Request.Requester}
		}
	case notify.RequestEscalated, notify.EligibilityEnding, notify.UserDeprovisioned:
		if m.Request != nil {
			self = m.Request.Requester
		}
		for _, p := range m.To {
			names = append(names, p.Name)
		}
	case notify.BreakGlass:
		if m.BreakGlass == nil {
			return nil
		}
		self = m.BreakGlass.User
		names = r.pol.Auditors()
	case notify.SessionStarted, notify.SessionEnded:
		if m.Session == nil {
			return nil
		}
		self = m.Session.User
		if res := r.pol.Resources[m.Session.Resource]; res != nil && res.OwnApproval() {
			names = r.pol.Approvers(self, res.Approval.Require)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []notify.Recipient
	for _, n := range names {
		if n == "" || n == self {
			continue
		}
		out = append(out, notify.Recipient{Name: n, Email: r.pol.EmailOf(n)})
	}
	return out
}

// facts are what routes filter on.
type facts struct {
	roles     []string
	resources []string
	tags      map[string]bool
}

// facts reads the role, resources and tags of m. A session event is about
// the session's resource only, not every resource of its grant, so a
// tenant's route hears of sessions on its resource and no other.
func (r *Router) facts(m *notify.Message) facts {
	f := facts{tags: map[string]bool{}}
	if m.Request != nil {
		f.roles = []string{m.Request.Role.Name}
	}
	if m.Session != nil {
		f.roles = []string{m.Session.Role}
		f.resources = []string{m.Session.Resource}
	} else if b := m.BreakGlass; b != nil {
		f.roles, f.resources = []string{b.Role}, []string{b.Resource}
	} else if e := m.Eligibility; e != nil {
		// An eligibility that ends is about every role and resource it gave.
		f.roles, f.resources = e.Roles, e.Resources
	} else if m.Request != nil {
		for _, res := range m.Request.Resources {
			f.resources = append(f.resources, res.Name)
		}
	}
	for _, name := range f.resources {
		if res := r.pol.Resources[name]; res != nil {
			for _, t := range res.Tags {
				f.tags[t] = true
			}
		}
	}
	if m.Request != nil {
		for _, res := range m.Request.Resources {
			if slices.Contains(f.resources, res.Name) {
				for _, t := range res.Tags {
					f.tags[t] = true
				}
			}
		}
	}
	return f
}

func (f facts) match(rt *policy.NotifyRoute) bool {
	if len(rt.Roles) > 0 && !slices.ContainsFunc(f.roles, func(s string) bool { return slices.Contains(rt.Roles, s) }) {
		return false
	}
	if len(rt.Resources) > 0 && !slices.ContainsFunc(f.resources, func(s string) bool { return slices.Contains(rt.Resources, s) }) {
		return false
	}
	if len(rt.Tags) > 0 && !slices.ContainsFunc(rt.Tags, func(t string) bool { return f.tags[t] }) {
		return false
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
