package notify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func validRequestMessage() Message {
	return Message{
		Key:     NewKey(RequestPending, "req-1", "carol"),
		Kind:    RequestPending,
		Time:    time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		To:      []Recipient{{Name: "carol", Email: "carol@example.com"}},
		Link:    "https://lockbox.example.com/ui/requests/req-1",
		Request: &Request{ID: "req-1", Requester: "alice"},
	}
}

func TestValidateRefusesMessagesThatCannotBeSent(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Message)
	}{
		{"no key", func(m *Message) { m.Key = "" }},
		{"key with a line break", func(m *Message) { m.Key = "a\r\nBcc: x@example.com" }},
		{"key with a space", func(m *Message) { m.Key = "a b" }},
		{"key too long", func(m *Message) { m.Key = strings.Repeat("k", maxKeyLen+1) }},
		{"unknown kind", func(m *Message) { m.Kind = "request.maybe" }},
		{"no time", func(m *Message) { m.Time = time.Time{} }},
		{"javascript link", func(m *Message) { m.Link = "javascript:alert(1)" }},
		{"relative link", func(m *Message) { m.Link = "/ui/requests/req-1" }},
		{"link with user info", func(m *Message) { m.Link = "https://a:b@lockbox.example.com/" }},
		{"recipient without a name", func(m *Message) { m.To = []Recipient{{Email: "x@example.com"}} }},
		{"address with a display name", func(m *Message) { m.To[0].Email = "Carol <carol@example.com>" }},
		{"address with a line break", func(m *Message) { m.To[0].Email = "carol@example.com\r\nBcc: eve@example.com" }},
		{"two addresses", func(m *Message) { m.To[0].Email = "carol@example.com, eve@example.com" }},
		{"no request", func(m *Message) { m.Request = nil }},
		{"request without an ID", func(m *Message) { m.Request = &Request{} }},
		{"decision missing", func(m *Message) { m.Kind = RequestDecided }},
		{"decision of the wrong outcome", func(m *Message) {
			m.Kind = RequestDecided
			m.Request.Decision = &Decision{Outcome: Revoked}
		}},
		{"revocation without its decision", func(m *Message) { m.Kind = GrantRevoked }},
		{"session event without a session", func(m *Message) { m.Kind = SessionStarted }},
		{"dead notice without the dead message", func(m *Message) { m.Kind = MessageDead }},
		{"break-glass without its use", func(m *Message) { m.Kind = BreakGlass }},
		{"break-glass of an unknown event", func(m *Message) {
			m.Kind, m.BreakGlass = BreakGlass, &BreakGlassUse{Event: "used", User: "alice", Resource: "db-1"}
		}},
		{"break-glass session without its ID", func(m *Message) {
			m.Kind, m.BreakGlass = BreakGlass, &BreakGlassUse{Event: BreakGlassSession, User: "alice", Resource: "db-1"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validRequestMessage()
			tc.change(&m)
			if err := m.Validate(); !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Validate = %v, want ErrInvalidMessage", err)
			}
		})
	}
	m := validRequestMessage()
	if err := m.Validate(); err != nil {
		t.Fatalf("the valid message: %v", err)
	}
	m.Kind, m.Request = BreakGlass, nil
	m.BreakGlass = &BreakGlassUse{Event: BreakGlassIssued, User: "alice", Resource: "db-1"}
	if err := m.Validate(); err != nil {
		t.Fatalf("a break-glass issuance: %v", err)
	}
}

func TestNewKeyIsStableAndSeparatesParts(t *testing.T) {
	a := NewKey(RequestPending, "req-1", "carol")
	if a != NewKey(RequestPending, "req-1", "carol") {
		t.Fatal("the same parts gave two keys")
	}
	for _, other := range []string{
		NewKey(RequestPending, "req-1", "dave"),
		NewKey(RequestDecided, "req-1", "carol"),
		NewKey(RequestPending, "req-1c", "arol"),
		NewKey(RequestPending, "req-1", "carol", ""),
	} {
		if other == a {
			t.Fatalf("different parts gave the same key %s", a)
		}
	}
	if !ValidKey(a) || !strings.HasPrefix(a, "request.pending-") {
		t.Fatalf("NewKey = %q: want a valid key that names its kind", a)
	}
}
