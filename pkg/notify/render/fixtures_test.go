package render

import (
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func pendingRequest() *notify.Request {
	return &notify.Request{
		ID:        "req-7f3a",
		Requester: "alice",
		Role: notify.Role{
			Name: "db-admin", Description: "Database administration", Login: "root", Interactive: true,
			AllowedCommands: []string{"systemctl restart postgresql", "journalctl -u postgresql *"},
			MaxDuration:     4 * time.Hour, ForceCommand: "/usr/local/bin/lockbox-gate",
		},
		Resources: []notify.Resource{
			{Name: "db1", Description: "Primary database", Tags: []string{"pci", "prod"}},
			{Name: "billing-db", Description: "Billing (customer data)", Tags: []string{"prod"}, OwnApproval: true},
		},
		Duration:      2 * time.Hour,
		Window:        notify.Window{NotBefore: at, NotAfter: at.Add(2 * time.Hour)},
		Justification: "Rotate the replication keys (INC-4411)",
		Ticket:        "INC-4411",
		Outstanding: []notify.Requirement{
			{Count: 1, Of: []string{"carol", "dave"}, Label: "managers of storage"},
			{Count: 1, Of: []string{"tina"}, Label: "tenant administrators of billing-db"},
		},
		Approvals: []notify.Approval{{By: "bob", Reason: "matches the incident", At: at.Add(-5 * time.Minute)}},
	}
}

func grant() *notify.Request {
	r := pendingRequest()
	r.Outstanding = nil
	r.Approvals = append(r.Approvals,
		notify.Approval{By: "carol", At: at.Add(-2 * time.Minute)},
		notify.Approval{By: "tina", Reason: "ok for one rotation", At: at.Add(-time.Minute)})
	r.Decision = &notify.Decision{Outcome: notify.Approved, By: "tina", Reason: "ok for one rotation", At: at.Add(-time.Minute)}
	return r
}

func session(ended bool) *notify.Session {
	s := &notify.Session{
		ID: "s-91c2", User: "alice", Resource: "billing-db", Role: "db-admin", RequestID: "req-7f3a",
		StartedAt: at.Add(10 * time.Minute),
	}
	if ended {
		s.EndedAt, s.EndReason = at.Add(40*time.Minute), "idle for 15m0s"
	}
	return s
}

const link = "https://lockbox.example.com/ui/requests/req-7f3a"

// messages has one message of every kind, by kind.
func messages() map[notify.Kind]*notify.Message {
	msg := func(kind notify.Kind, to []notify.Recipient, r *notify.Request, mod func(*notify.Message)) *notify.Message {
		m := &notify.Message{Key: notify.NewKey(kind, "req-7f3a"), Kind: kind, Time: at, To: to, Link: link, Request: r}
		if mod != nil {
			mod(m)
		}
		return m
	}
	carol := []notify.Recipient{{Name: "carol", Email: "carol@example.com"}}
	alice := []notify.Recipient{{Name: "alice", Email: "alice@example.com"}}
	denied := pendingRequest()
	denied.Decision = &notify.Decision{Outcome: notify.Denied, By: "carol", Reason: "use the runbook instead", At: at.Add(time.Minute)}
	expired := pendingRequest()
	expired.Decision = &notify.Decision{Outcome: notify.Expired, At: at.Add(24 * time.Hour)}
	revoked := grant()
	revoked.Decision = &notify.Decision{Outcome: notify.Revoked, By: "sec-oncall", Reason: "key rotation done", At: at.Add(time.Hour)}
	return map[notify.Kind]*notify.Message{
		notify.RequestPending: msg(notify.RequestPending, carol, pendingRequest(), func(m *notify.Message) {
			m.Key = notify.NewKey(notify.RequestPending, "req-7f3a", "carol")
		}),
		notify.RequestDecided:  msg(notify.RequestDecided, alice, denied, nil),
		notify.RequestExpired:  msg(notify.RequestExpired, alice, expired, func(m *notify.Message) { m.Time = at.Add(24 * time.Hour) }),
		notify.GrantStarted:    msg(notify.GrantStarted, alice, grant(), nil),
		notify.GrantEndingSoon: msg(notify.GrantEndingSoon, alice, grant(), func(m *notify.Message) { m.Time = at.Add(115 * time.Minute) }),
		notify.GrantEnded:      msg(notify.GrantEnded, alice, grant(), func(m *notify.Message) { m.Time = at.Add(2 * time.Hour) }),
		notify.GrantRevoked:    msg(notify.GrantRevoked, alice, revoked, func(m *notify.Message) { m.Time = at.Add(time.Hour) }),
		notify.SessionStarted: msg(notify.SessionStarted, nil, grant(), func(m *notify.Message) {
			m.Key, m.Session, m.Time = notify.NewKey(notify.SessionStarted, "s-91c2"), session(false), at.Add(10*time.Minute)
		}),
		notify.SessionEnded: msg(notify.SessionEnded, nil, grant(), func(m *notify.Message) {
			m.Key, m.Session, m.Time = notify.NewKey(notify.SessionEnded, "s-91c2"), session(true), at.Add(40*time.Minute)
		}),
		notify.RequestEscalated: msg(notify.RequestEscalated, []notify.Recipient{{Name: "erin", Email: "erin@example.com"}}, pendingRequest(), func(m *notify.Message) {
			m.Key, m.Time = notify.NewKey(notify.RequestEscalated, "req-7f3a", "2026-12-01T13:00:00Z"), at.Add(4*time.Hour)
		}),
		notify.EligibilityEnding: {
			Key: notify.NewKey(notify.EligibilityEnding, "storage", "alice"), Kind: notify.EligibilityEnding, Time: at,
			To: []notify.Recipient{{Name: "alice"}, {Name: "carol"}},
			Eligibility: &notify.Eligibility{Team: "storage", Member: "alice", Roles: []string{"db-admin"}, Resources: []string{"tag:storage"},
				People: []string{"alice"}, Managers: []string{"carol"}, Until: at.Add(7 * 24 * time.Hour)},
		},
		notify.UserDeprovisioned: {
			Key: notify.NewKey(notify.UserDeprovisioned, "alice", "2026-12-01T09:00:00Z"), Kind: notify.UserDeprovisioned, Time: at,
			To: []notify.Recipient{{Name: "carol"}},
			Deprovisioned: &notify.Deprovisioned{User: "alice", By: "directory", Reason: "deactivated in the directory",
				Withdrawn: []string{"req-8b01"}, Revoked: []string{"req-7f3a"}, Sessions: []string{"s-91c2"}},
		},
		notify.BreakGlass: {
			Key: notify.NewKey(notify.BreakGlass, "session", "bg-5d1e"), Kind: notify.BreakGlass, Time: at,
			To: []notify.Recipient{{Name: "erin", Email: "erin@example.com"}},
			BreakGlass: &notify.BreakGlassUse{Event: notify.BreakGlassSession, User: "alice", Role: "db-admin", Resource: "db1",
				Reason: "CA database down; db1 disk full", Bastion: "bastion-1", Serial: "8412", NotAfter: at.Add(time.Hour),
				SessionID: "bg-5d1e", Client: "192.0.2.10:50122", Command: "df -h", StartedAt: at.Add(-10 * time.Minute),
				EndedAt: at.Add(-9 * time.Minute), EndReason: "the command exited", ExitStatus: new(int)},
		},
		notify.MessageDead: {
			Key: notify.NewKey(notify.MessageDead, "request.pending-0011"), Kind: notify.MessageDead, Time: at,
			Dead: &notify.Dead{Key: "request.pending-0011", Kind: notify.RequestPending, Channel: "ops-slack", Attempts: 8, LastError: "notify: receiver unavailable: answered 503"},
		},
	}
}

// hostile is text a requester controls, written to act in every medium.
const hostile = "<!channel> <@U123> <https://evil.example|click to approve> [approve](https://evil.example) **urgent** *bold* _x_ ~y~ `z` " +
	"<script>alert(1)</script> <img src=x onerror=alert(1)> &amp; {{DATE(2026-01-01T00:00:00Z)}} \x1b]52;c;cm0=\x07 \x1b[2J \u202egnp.exe \u2066x\u2069 \r\nBcc: eve@example.com"

// hostileMessage puts hostile text everywhere a person can write.
func hostileMessage() *notify.Message {
	r := pendingRequest()
	r.Justification = hostile
	r.Ticket = hostile
	r.Requester = "alice " + hostile
	r.Approvals[0].Reason = hostile
	r.Resources[0].Description = hostile
	r.Outstanding[0].Label = hostile
	return &notify.Message{
		Key: notify.NewKey(notify.RequestPending, "hostile"), Kind: notify.RequestPending, Time: at,
		To: []notify.Recipient{{Name: "carol " + hostile, Email: "carol@example.com"}}, Link: link, Request: r,
	}
}
