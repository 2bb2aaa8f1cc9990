package mailpittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Address is a mailbox as the API shows it.
type Address struct {
	Name    string
	Address string
}

// Summary is a message as listed.
type Summary struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Username  string // who logged in with SMTP AUTH, if anyone
}

// Message is one message in full.
type Message struct {
	ID        string
	MessageID string // without the angle brackets
	From      Address
	To        []Address
	Subject   string
	Text      string
	HTML      string
	Username  string
}

// Messages lists what arrived, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var list struct{ Messages []Summary }
	s.get(t, "/api/v1/messages", &list)
	return list.Messages
}

// WaitForMessages returns once at least n messages arrived, failing the
// test after timeout.
func (s *Server) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Summary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages(t)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpittest: %d messages after %v, want %d", len(msgs), timeout, n)
		}
		time.Sleep(20 * time.Millisecond) // polling the API, not standing in for synchronisation
	}
}

// Message reads one message, both parts decoded.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+id, &m)
	return m
}

// Headers reads one message's headers, by canonical name.
func (s *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	s.get(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

// Raw reads one message as it was received.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	resp, err := http.Get(s.API + "/api/v1/message/" + id + "/raw")
	if err != nil {
		t.Fatalf("mailpittest: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpittest: raw message %s: %s %v", id, resp.Status, err)
	}
	return string(b)
}

// DeleteAll empties the mailbox.
func (s *Server) DeleteAll(t testing.TB) {
	t.Helper()
	s.do(t, http.MethodDelete, "/api/v1/messages", nil, nil)
}

// SetChaos makes Mailpit answer RCPT TO with code (4xx or 5xx) with the
// given probability in percent (0 turns it off). Start needs Options.Chaos.
func (s *Server) SetChaos(t testing.TB, recipientCode, probability int) {
	t.Helper()
	body := map[string]any{"Recipient": map[string]int{"ErrorCode": recipientCode, "Probability": probability}}
	s.do(t, http.MethodPut, "/api/v1/chaos", body, nil)
}

func (s *Server) get(t testing.TB, path string, out any) {
	t.Helper()
	s.do(t, http.MethodGet, path, nil, out)
}

func (s *Server) do(t testing.TB, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.API+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpittest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpittest: %s %s: %s %s %v", method, path, resp.Status, b, err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("mailpittest: %s %s: %v", method, path, fmt.Errorf("decoding %s: %w", b, err))
		}
	}
}
