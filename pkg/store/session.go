package store

import "time"

// Session is one SSH connection through a bastion.
type Session struct {
	ID         string
	User       string
	RequestID  string
	Resource   string
	Role       string
	Bastion    string
	ClientAddr string
	Command    string // the exec command, or "" for a shell
	StartedAt  time.Time
	EndedAt    time.Time // zero while open
	EndReason  string
	// Recording is set once the bastion's upload is stored.
	RecordingSize   int64
	RecordingSHA256 string
	RecordedAt      time.Time
}

// SessionFilter selects sessions; zero fields select everything.
type SessionFilter struct {
	User      string
	Resource  string
	RequestID string
	Since     time.Time // started at or after
	Until     time.Time // started before
	Open      bool      // only sessions not yet ended
	EndReason string    // substring of the end reason
	Limit     int       // 0 = 1000
}

// Lease is the one-session-per-user lock: at most one row per user, held
// by a session until it ends or the lease expires (a crashed bastion
// stops renewing it).
type Lease struct {
	User      string
	SessionID string
	Bastion   string
	Expires   time.Time
}

// Throttle counts recent failures for a key ("user:alice",
// "addr:192.0.2.1") across every replica.
type Throttle struct {
	Key          string
	Failures     int
	LastFailure  time.Time
	BlockedUntil time.Time
}
