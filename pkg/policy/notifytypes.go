package policy

import "time"

// Notifications is the policy's notifications section: where
// notifications may go (Endpoints) and which events go where (Routes).
// Without one nothing is sent. It holds secret references only, never
// secrets; building the channels (package notify/route) resolves them.
type Notifications struct {
	Endpoints []NotifyEndpoint // sorted by name
	Routes    []NotifyRoute    // in file order, then the order written
}

// Endpoint returns the endpoint named name, or nil.
func (n *Notifications) Endpoint(name string) *NotifyEndpoint {
	for i := range n.Endpoints {
		if n.Endpoints[i].Name == name {
			return &n.Endpoints[i]
		}
	}
	return nil
}

// The kinds of notification endpoint.
const (
	EndpointWebhook = "webhook"
	EndpointSlack   = "slack"
	EndpointTeams   = "teams"
	EndpointEmail   = "email"
)

// NotifyEndpoint is one named channel.
type NotifyEndpoint struct {
	Name string
	Kind string // EndpointWebhook, EndpointSlack, EndpointTeams or EndpointEmail
	// URL is a webhook's https address; Slack and Teams take URLSecret,
	// a reference to their URL, which is itself a credential.
	URL       string
	URLSecret string
	// Secret is a reference to a webhook's signing secret.
	Secret         string
	AllowPlainHTTP bool
	Timeout        time.Duration // 0: the channel's default
	SMTP           NotifySMTP    // for email
	// At is where the endpoint is defined (FILE:LINE), for errors found
	// when it is built.
	At string
}

// NotifySMTP are an email endpoint's server settings.
type NotifySMTP struct {
	Host string
	Port int // 0: the default, 587
	From string
	// Security is "starttls" (the default: required) or "none" (only to
	// a loopback address, checked when the endpoint is built).
	Security string
	// CAFile is a PEM file of the CAs trusted for the server, or "" for
	// the system's.
	CAFile          string
	Username        string
	Password        string // a secret reference; set exactly when Username is
	MessageIDDomain string
	Timeout         time.Duration // 0: the channel's default
}

// Who a route's messages address.
const (
	// ToPeople: the people the event concerns, by name (an email
	// endpoint sends to their addresses; other endpoints post to their
	// channel naming them). The default.
	ToPeople = "people"
	// ToChannel: the endpoint's channel as a whole, naming nobody. Not
	// for email endpoints, which need addresses.
	ToChannel = "channel"
)

// NotifyRoute sends the events it matches to its endpoints. A route
// matches an event when its kind is in Events and, for each filter given,
// the event's role is in Roles, one of its resources is in Resources, and
// one of its resources has a tag in Tags. Empty filters match anything.
type NotifyRoute struct {
	Events    []string
	Roles     []string
	Resources []string
	Tags      []string
	To        string // ToPeople or ToChannel
	Endpoints []string
	At        string // FILE:LINE of the route
}

// NotificationEvents are the event kinds a route may name: the values of
// notify.Kind (a test keeps the two lists the same; policy imports no
// other Lockbox package).
var NotificationEvents = []string{
	"request.pending", "request.decided", "request.expired",
	"grant.started", "grant.ending_soon", "grant.ended", "grant.revoked",
	"session.started", "session.ended", "message.dead",
	"request.escalated", "eligibility.ending", "user.deprovisioned",
	"break_glass",
}
