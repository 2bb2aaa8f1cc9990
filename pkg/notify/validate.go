package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
)

// ErrInvalidMessage is a Message that cannot be sent as it is. Sending it
// again will not help: it is a permanent failure.
var ErrInvalidMessage = errors.New("notify: invalid message")

// maxKeyLen bounds an idempotency key; NewKey's keys are well below it.
const maxKeyLen = 128

// Validate checks that m can be rendered and sent: a key fit for headers,
// a known kind, a time, the parts its kind needs, a web link if any, and
// recipients' addresses. Errors wrap ErrInvalidMessage.
func (m *Message) Validate() error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidMessage, err)
	}
	return nil
}

func (m *Message) validate() error {
	if !ValidKey(m.Key) {
		return fmt.Errorf("idempotency key %q: want 1 to %d of A-Z a-z 0-9 . _ -", m.Key, maxKeyLen)
	}
	if !slices.Contains(Kinds, m.Kind) {
		return fmt.Errorf("unknown kind %q", m.Kind)
	}
	if m.Time.IsZero() {
		return errors.New("no time")
	}
	if err := checkLink(m.Link); err != nil {
		return err
	}
	for _, r := range m.To {
		if r.Name == "" {
			return errors.New("a recipient without a name")
		}
		if r.Email != "" {
			if err := checkAddress(r.Email); err != nil {
				return fmt.Errorf("recipient %s: %w", r.Name, err)
			}
		}
	}
	return m.validateParts()
}

// validateParts checks that the parts the kind is about are there.
func (m *Message) validateParts() error {
	switch m.Kind {
	case SessionStarted, SessionEnded:
		if m.Session == nil || m.Session.ID == "" {
			return fmt.Errorf("%s without a session", m.Kind)
		}
		return nil
	case MessageDead:
		if m.Dead == nil || m.Dead.Key == "" {
			return fmt.Errorf("%s without the dead message", m.Kind)
		}
		return nil
	case EligibilityEnding:
		if m.Eligibility == nil || m.Eligibility.Team == "" {
			return fmt.Errorf("%s without the eligibility", m.Kind)
		}
		return nil
	case UserDeprovisioned:
		if m.Deprovisioned == nil || m.Deprovisioned.User == "" {
			return fmt.Errorf("%s without the person", m.Kind)
		}
		return nil
	case BreakGlass:
		b := m.BreakGlass
		switch {
		case b == nil || b.User == "" || b.Resource == "":
			return fmt.Errorf("%s without the person and resource", m.Kind)
		case b.Event != BreakGlassIssued && b.Event != BreakGlassSession:
			return fmt.Errorf("%s event %q: want %s or %s", m.Kind, b.Event, BreakGlassIssued, BreakGlassSession)
		case b.Event == BreakGlassSession && b.SessionID == "":
			return fmt.Errorf("%s session without its ID", m.Kind)
		}
		return nil
	}
	if m.Request == nil || m.Request.ID == "" {
		return fmt.Errorf("%s without a request", m.Kind)
	}
	d := m.Request.Decision
	switch m.Kind {
	case RequestDecided:
		if d == nil || (d.Outcome != Approved && d.Outcome != Denied) {
			return errors.New("a decision must be approved or denied")
		}
	case GrantRevoked:
		if d == nil || d.Outcome != Revoked {
			return errors.New("a revocation needs its decision")
		}
	}
	return nil
}

// ValidKey reports whether key can serve as an idempotency key: it goes
// into HTTP headers and Message-IDs as it is.
func ValidKey(key string) bool {
	if key == "" || len(key) > maxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func checkLink(link string) error {
	if link == "" {
		return nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("link %q: want an absolute http or https URL without user info", link)
	}
	return nil
}

// checkAddress accepts a bare address (user@domain), nothing around it.
func checkAddress(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return fmt.Errorf("address %q: want a bare address like name@example.com", addr)
	}
	return nil
}
