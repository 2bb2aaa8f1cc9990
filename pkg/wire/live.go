package wire

import "time"

// LiveReport is the body of POST /v1/bastion/live: a bastion's report of
// its running sessions' output since its last report.
type LiveReport struct {
	Sessions []LiveFeed `json:"sessions"`
}

// LiveFeed is one session's output from Offset on (Data may be empty),
// and the user's last keystroke. An Offset beyond what the CA has means
// the bastion dropped output it could not send in time.
type LiveFeed struct {
	Session   string    `json:"session"`
	Offset    int64     `json:"offset"`
	Data      []byte    `json:"data,omitempty"`
	LastInput time.Time `json:"last_input,omitzero"`
}

// LiveReportResult answers a LiveReport, per session the CA took: who
// watches it (empty when the role keeps watchers unannounced), and Stop,
// the reason to end it, if a watcher ended it.
type LiveReportResult struct {
	Sessions map[string]LiveFeedAnswer `json:"sessions"`
}

// LiveFeedAnswer is one session's part of a LiveReportResult.
type LiveFeedAnswer struct {
	Watchers []string `json:"watchers,omitempty"`
	Stop     string   `json:"stop,omitempty"`
}

// LiveSession is one running session in GET /v1/live.
type LiveSession struct {
	Session
	LastInput *time.Time `json:"last_input,omitempty"`
	Reported  time.Time  `json:"reported"`
	Watchers  []string   `json:"watchers,omitempty"`
}

// LiveSessions answers GET /v1/live.
type LiveSessions struct {
	Sessions []LiveSession `json:"sessions"`
}

// WatchStart is the body of POST /v1/sessions/{id}/watch.
type WatchStart struct {
	Via string `json:"via"` // "cli" or "web"
}

// Watch answers WatchStart: the watch to read with.
type Watch struct {
	ID      string    `json:"id"`
	Session string    `json:"session"`
	Started time.Time `json:"started"`
}

// LiveOutput answers GET /v1/sessions/{id}/live: output from Offset to
// Next. Skipped counts bytes the watcher will never see (they left the
// CA's buffer before the watcher read them, or the bastion dropped them).
// Ended is set once the session ended and everything kept was read.
type LiveOutput struct {
	Offset    int64    `json:"offset"`
	Data      []byte   `json:"data"`
	Next      int64    `json:"next"`
	Skipped   int64    `json:"skipped,omitempty"`
	Ended     bool     `json:"ended,omitempty"`
	EndReason string   `json:"end_reason,omitempty"`
	Watchers  []string `json:"watchers,omitempty"`
}

// LiveEnd is the body of POST /v1/sessions/{id}/live/end.
type LiveEnd struct {
	Reason string `json:"reason"`
}
