package wire

import "time"

// Notifications is GET /v1/notifications: the outbox's counts per state
// and its queued messages (or, with ?dead=1, its dead ones), newest
// first.
type Notifications struct {
	Queued    int                   `json:"queued"`
	Delivered int                   `json:"delivered"` // within the retention
	Dead      int                   `json:"dead"`
	Messages  []NotificationMessage `json:"messages"`
}

// NotificationMessage is one message for one endpoint.
type NotificationMessage struct {
	Key       string     `json:"key"` // the idempotency key receivers see
	Endpoint  string     `json:"endpoint"`
	Event     string     `json:"event"`
	Subject   string     `json:"subject"` // the request, session or person it is about
	State     string     `json:"state"`   // queued, delivered or dead
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"created_at"`
	DueAt     *time.Time `json:"due_at,omitempty"` // the next attempt, while queued
	LastError string     `json:"last_error,omitempty"`
	DoneAt    *time.Time `json:"done_at,omitempty"` // delivered or given up
}
