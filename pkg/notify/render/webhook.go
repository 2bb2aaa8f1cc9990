package render

import (
	"encoding/json"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// WebhookSchema names the generic webhook body's schema. A change that a
// receiver could trip on gets a new name; fields are only ever added.
const WebhookSchema = "lockbox.notification.v1"

// WebhookBody is the generic webhook's JSON body (docs/notifications.md
// documents every field). Text is as people wrote it: receivers that show
// it must escape it for their medium.
type WebhookBody struct {
	Schema string `json:"schema"`
	// ID is the idempotency key, the same at every attempt.
	ID      string          `json:"id"`
	Event   notify.Kind     `json:"event"`
	Time    time.Time       `json:"time"`
	To      []WebhookPerson `json:"to,omitempty"`
	Link    string          `json:"link,omitempty"`
	Marks   []string        `json:"marks,omitempty"`
	Request *WebhookRequest `json:"request,omitempty"`
	Session *WebhookSession `json:"session,omitempty"`
	Dead    *WebhookDead    `json:"dead,omitempty"`
	// Eligibility is set for eligibility.ending, Deprovisioned for
	// user.deprovisioned.
	Eligibility   *WebhookEligibility   `json:"eligibility,omitempty"`
	Deprovisioned *WebhookDeprovisioned `json:"deprovisioned,omitempty"`
	// BreakGlass is set for break_glass.
	BreakGlass *WebhookBreakGlass `json:"break_glass,omitempty"`
}

// WebhookBreakGlass is an emergency certificate's issuance (event
// "issued") or a session made with one (event "session").
type WebhookBreakGlass struct {
	Event      string     `json:"event"`
	User       string     `json:"user"`
	Role       string     `json:"role"`
	Resource   string     `json:"resource"`
	Reason     string     `json:"reason"`
	Bastion    string     `json:"bastion"`
	Serial     string     `json:"serial"`
	Operator   string     `json:"operator,omitempty"`
	NotAfter   *time.Time `json:"not_after,omitempty"`
	SessionID  string     `json:"session_id,omitempty"`
	Client     string     `json:"client,omitempty"`
	Command    string     `json:"command,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	EndReason  string     `json:"end_reason,omitempty"`
	ExitStatus *int       `json:"exit_status,omitempty"`
}

// WebhookEligibility is a dated team membership or eligibility that ends.
type WebhookEligibility struct {
	Team      string    `json:"team"`
	Member    string    `json:"member,omitempty"`
	Roles     []string  `json:"roles"`
	Resources []string  `json:"resources"`
	People    []string  `json:"people"`
	Managers  []string  `json:"managers"`
	Until     time.Time `json:"until"`
}

// WebhookDeprovisioned is what a deprovisioning took away.
type WebhookDeprovisioned struct {
	User      string   `json:"user"`
	By        string   `json:"by"`
	Reason    string   `json:"reason"`
	Withdrawn []string `json:"withdrawn"`
	Revoked   []string `json:"revoked"`
	Sessions  []string `json:"sessions"`
}

// WebhookPerson is a person addressed.
type WebhookPerson struct {
	Name string `json:"name"`
}

// WebhookRequest is a request or grant.
type WebhookRequest struct {
	ID              string               `json:"id"`
	Requester       string               `json:"requester"`
	Role            WebhookRole          `json:"role"`
	Resources       []WebhookResource    `json:"resources"`
	DurationSeconds int64                `json:"duration_seconds"`
	Window          *WebhookWindow       `json:"window,omitempty"`
	Justification   string               `json:"justification"`
	Ticket          string               `json:"ticket,omitempty"`
	Outstanding     []WebhookRequirement `json:"outstanding"`
	Approvals       []WebhookApproval    `json:"approvals"`
	Decision        *WebhookDecision     `json:"decision,omitempty"`
}

// WebhookRole is what the grant lets its holder do.
type WebhookRole struct {
	Name               string   `json:"name"`
	Description        string   `json:"description,omitempty"`
	Login              string   `json:"login"`
	Interactive        bool     `json:"interactive"`
	AllowedCommands    []string `json:"allowed_commands"`
	MaxDurationSeconds int64    `json:"max_duration_seconds,omitempty"`
	ForceCommand       string   `json:"force_command,omitempty"`
}

// WebhookResource is one target.
type WebhookResource struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags"`
	OwnApproval bool     `json:"own_approval"`
}

// WebhookWindow is the grant's validity; for request.pending, the window
// it would have if approved at the event's time.
type WebhookWindow struct {
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// WebhookRequirement is one approval still needed.
type WebhookRequirement struct {
	Count int      `json:"count"`
	Of    []string `json:"of"`
	Label string   `json:"label"`
}

// WebhookApproval is one approval given.
type WebhookApproval struct {
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// WebhookDecision is how the request was decided or the grant ended.
type WebhookDecision struct {
	Outcome notify.Outcome `json:"outcome"`
	By      string         `json:"by,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	At      time.Time      `json:"at"`
}

// WebhookSession is a session.
type WebhookSession struct {
	ID        string     `json:"id"`
	User      string     `json:"user"`
	Resource  string     `json:"resource"`
	Role      string     `json:"role,omitempty"`
	RequestID string     `json:"request_id,omitempty"`
	Command   string     `json:"command,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	EndReason string     `json:"end_reason,omitempty"`
}

// WebhookDead is a message given up.
type WebhookDead struct {
	ID        string      `json:"id"`
	Event     notify.Kind `json:"event"`
	Endpoint  string      `json:"endpoint"`
	Attempts  int         `json:"attempts"`
	LastError string      `json:"last_error"`
}

// Webhook renders m as the generic webhook's body.
func Webhook(m *notify.Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b := WebhookBody{Schema: WebhookSchema, ID: m.Key, Event: m.Kind, Time: m.Time.UTC(), Link: m.Link}
	for _, r := range m.To {
		b.To = append(b.To, WebhookPerson{Name: r.Name})
	}
	if r := m.Request; r != nil {
		b.Request = webhookRequest(r)
		b.Marks = markCodes(r)
	}
	if s := m.Session; s != nil {
		b.Session = webhookSession(s)
	}
	if d := m.Dead; d != nil {
		b.Dead = &WebhookDead{ID: d.Key, Event: d.Kind, Endpoint: d.Channel, Attempts: d.Attempts, LastError: d.LastError}
	}
	if e := m.Eligibility; e != nil {
		b.Eligibility = &WebhookEligibility{Team: e.Team, Member: e.Member, Roles: nonNil(e.Roles), Resources: nonNil(e.Resources),
			People: nonNil(e.People), Managers: nonNil(e.Managers), Until: e.Until.UTC()}
	}
	if d := m.Deprovisioned; d != nil {
		b.Deprovisioned = &WebhookDeprovisioned{User: d.User, By: d.By, Reason: d.Reason,
			Withdrawn: nonNil(d.Withdrawn), Revoked: nonNil(d.Revoked), Sessions: nonNil(d.Sessions)}
	}
	if g := m.BreakGlass; g != nil {
		b.BreakGlass = &WebhookBreakGlass{Event: g.Event, User: g.User, Role: g.Role, Resource: g.Resource, Reason: g.Reason,
			Bastion: g.Bastion, Serial: g.Serial, Operator: g.Operator, NotAfter: optionalTime(g.NotAfter), SessionID: g.SessionID,
			Client: g.Client, Command: g.Command, StartedAt: optionalTime(g.StartedAt), EndedAt: optionalTime(g.EndedAt),
			EndReason: g.EndReason, ExitStatus: g.ExitStatus}
	}
	return json.Marshal(b)
}

// optionalTime is t in UTC, or nil for the zero time.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// markCodes are the webhook's machine-readable marks.
func markCodes(r *notify.Request) []string {
	var out []string
	if r.Role.Login == "root" {
		out = append(out, "root_login")
	}
	if r.Role.Interactive {
		out = append(out, "interactive")
	}
	for _, res := range r.Resources {
		if res.OwnApproval {
			return append(out, "customer_data")
		}
	}
	return out
}

func webhookRequest(r *notify.Request) *WebhookRequest {
	w := &WebhookRequest{
		ID: r.ID, Requester: r.Requester,
		Role: WebhookRole{
			Name: r.Role.Name, Description: r.Role.Description, Login: r.Role.Login,
			Interactive: r.Role.Interactive, AllowedCommands: nonNil(r.Role.AllowedCommands),
			MaxDurationSeconds: int64(r.Role.MaxDuration / time.Second), ForceCommand: r.Role.ForceCommand,
		},
		Resources:       []WebhookResource{},
		DurationSeconds: int64(r.Duration / time.Second),
		Justification:   r.Justification,
		Ticket:          r.Ticket,
		Outstanding:     []WebhookRequirement{},
		Approvals:       []WebhookApproval{},
	}
	for _, res := range r.Resources {
		w.Resources = append(w.Resources, WebhookResource{Name: res.Name, Description: res.Description, Tags: nonNil(res.Tags), OwnApproval: res.OwnApproval})
	}
	if !r.Window.NotBefore.IsZero() || !r.Window.NotAfter.IsZero() {
		w.Window = &WebhookWindow{NotBefore: r.Window.NotBefore.UTC(), NotAfter: r.Window.NotAfter.UTC()}
	}
	for _, q := range r.Outstanding {
		w.Outstanding = append(w.Outstanding, WebhookRequirement{Count: q.Count, Of: nonNil(q.Of), Label: q.Label})
	}
	for _, a := range r.Approvals {
		w.Approvals = append(w.Approvals, WebhookApproval{By: a.By, Reason: a.Reason, At: a.At.UTC()})
	}
	if d := r.Decision; d != nil {
		w.Decision = &WebhookDecision{Outcome: d.Outcome, By: d.By, Reason: d.Reason, At: d.At.UTC()}
	}
	return w
}

func webhookSession(s *notify.Session) *WebhookSession {
	w := &WebhookSession{
		ID: s.ID, User: s.User, Resource: s.Resource, Role: s.Role, RequestID: s.RequestID,
		Command: s.Command, StartedAt: s.StartedAt.UTC(), EndReason: s.EndReason,
	}
	if !s.EndedAt.IsZero() {
		ended := s.EndedAt.UTC()
		w.EndedAt = &ended
	}
	return w
}

// nonNil makes JSON say [] rather than null.
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
