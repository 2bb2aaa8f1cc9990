package wire

import "time"

// SessionStart is the body of POST /v1/sessions (bastions).
type SessionStart struct {
	RequestID  string `json:"request_id"`
	Resource   string `json:"resource"`
	User       string `json:"user"`
	ClientAddr string `json:"client_addr"`
	Command    string `json:"command,omitempty"`
}

// Target tells the bastion where to connect.
type Target struct {
	Address string `json:"address"`
	Login   string `json:"login"`
	HostKey string `json:"host_key,omitempty"` // pinned key; empty: trust the host CA
}

// SessionGrant is the answer to SessionStart.
type SessionGrant struct {
	SessionID       string    `json:"session_id"`
	NotAfter        time.Time `json:"not_after"`
	LeaseTTLSeconds int       `json:"lease_ttl_seconds"`
	Target          Target    `json:"target"`
	Interactive     bool      `json:"interactive"`
	AllowedCommands []string  `json:"allowed_commands,omitempty"`
	// ExecCommand is the command the bastion sends the target (exec) for
	// SessionStart.Command: with allowed commands, the matched words each
	// single-quoted; otherwise the command unchanged. Empty for a shell.
	ExecCommand string `json:"exec_command,omitempty"`
}

// Heartbeat is the body of POST /v1/sessions/heartbeat.
type Heartbeat struct {
	Sessions []string `json:"sessions"`
}

// SessionStatus is one session's state in a heartbeat's answer.
type SessionStatus struct {
	Live   bool   `json:"live"`
	Reason string `json:"reason,omitempty"`
	// Ended says why a session is not live: "revoked", "expired" (the
	// grant's window ended), or "lost" (lease lost, session unknown or
	// ended already).
	Ended    string     `json:"ended,omitempty"`
	NotAfter *time.Time `json:"not_after,omitempty"`
}

// Values of SessionStatus.Ended.
const (
	EndedRevoked = "revoked"
	EndedExpired = "expired"
	EndedLost    = "lost"
)

// HeartbeatResult answers a Heartbeat.
type HeartbeatResult struct {
	Sessions map[string]SessionStatus `json:"sessions"`
}

// SessionEnd is the body of POST /v1/sessions/{id}/end.
type SessionEnd struct {
	Reason string `json:"reason"`
	// EndedAt is when the session ended, if the bastion reports it later
	// (the CA was unreachable then); absent: now.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	// ExitStatus is the status the client was given, if any.
	ExitStatus *int `json:"exit_status,omitempty"`
}

// MFACheck is the body of POST /v1/mfa/check (bastions).
type MFACheck struct {
	User       string `json:"user"`
	Code       string `json:"code"`
	ClientAddr string `json:"client_addr"`
}

// Session is a session as listed.
type Session struct {
	ID              string     `json:"id"`
	User            string     `json:"user"`
	RequestID       string     `json:"request_id"`
	Resource        string     `json:"resource"`
	Role            string     `json:"role"`
	Bastion         string     `json:"bastion"`
	ClientAddr      string     `json:"client_addr"`
	Command         string     `json:"command,omitempty"`
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	EndReason       string     `json:"end_reason,omitempty"`
	RecordingSize   int64      `json:"recording_size,omitempty"`
	RecordingSHA256 string     `json:"recording_sha256,omitempty"`
}

// Sessions is the body of GET /v1/sessions.
type Sessions struct {
	Sessions []Session `json:"sessions"`
}
