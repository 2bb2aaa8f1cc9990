package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

// Format names this version of the bundle.
const Format = "lockbox-evidence-v1"

// Summary is what the audit rows say of one grant. It is derived from the
// rows alone (Summarize), so that a verifier can derive it again and
// compare.
type Summary struct {
	Format       string        `json:"format"`
	Request      Request       `json:"request"`
	Approvals    []Approval    `json:"approvals"`
	Decisions    []Decision    `json:"decisions"`
	Certificates []Certificate `json:"certificates"`
	Sessions     []Session     `json:"sessions"`
	// Other holds the rest of the grant's rows: refusals, escalations,
	// views of its recordings.
	Other []Row `json:"other"`
	// Rows are the sequence numbers of every row of the grant.
	Rows []int64 `json:"rows"`
	// Segment is the part of the chain the bundle holds: from the
	// request's first row to the checkpoint's.
	Segment    Segment    `json:"segment"`
	Checkpoint Checkpoint `json:"checkpoint"`

	certs map[string][]byte // certificate files: the text their rows hold
}

// Request is the request as submitted.
type Request struct {
	ID          string    `json:"id"`
	User        string    `json:"user"`
	Role        string    `json:"role"`
	Resources   []string  `json:"resources"`
	Duration    string    `json:"duration"`
	Reason      string    `json:"reason"`
	Ticket      string    `json:"ticket"`
	SubmittedAt time.Time `json:"submitted_at"`
	SubmittedBy string    `json:"submitted_by"`
	Seq         int64     `json:"audit_row"`
}

// Approval is one approver's yes.
type Approval struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Seq    int64     `json:"audit_row"`
}

// Decision is a change of the request's state: approved, denied, expired,
// revoked, the grant's end.
type Decision struct {
	Action string    `json:"action"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// NotBefore and NotAfter bound the grant, for request.approved.
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	Seq       int64     `json:"audit_row"`
}

// Certificate is one certificate issued for the grant.
type Certificate struct {
	Kind        string    `json:"kind"` // "user" or "hop"
	Serial      string    `json:"serial"`
	KeyID       string    `json:"key_id"`
	Principals  []string  `json:"principals"`
	ValidAfter  time.Time `json:"valid_after"`
	ValidBefore time.Time `json:"valid_before"`
	Fingerprint string    `json:"fingerprint"`
	IssuedAt    time.Time `json:"issued_at"`
	IssuedTo    string    `json:"issued_to"` // the actor who asked for it
	// File is the certificate's file in the bundle; empty for a
	// certificate whose audit row does not hold it (issued before Lockbox
	// kept them there).
	File string `json:"file,omitempty"`
	Seq  int64  `json:"audit_row"`
}

// Session is one session under the grant, and its recording.
type Session struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	Resource   string     `json:"resource"`
	Command    string     `json:"command"`
	Client     string     `json:"client"`
	Bastion    string     `json:"bastion"`
	StartedAt  time.Time  `json:"started_at"`
	StartSeq   int64      `json:"audit_row"`
	EndedAt    time.Time  `json:"ended_at,omitzero"`
	EndReason  string     `json:"end_reason,omitempty"`
	ExitStatus *int64     `json:"exit_status,omitempty"`
	EndSeq     int64      `json:"end_audit_row,omitempty"`
	Recording  *Recording `json:"recording,omitempty"`
}

// Recording is a session's recording as the CA stored it.
type Recording struct {
	File   string    `json:"file"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	At     time.Time `json:"stored_at"`
	Seq    int64     `json:"audit_row"`
}

// Row names one audit row.
type Row struct {
	Action  string    `json:"action"`
	Actor   string    `json:"actor"`
	Subject string    `json:"subject"`
	At      time.Time `json:"at"`
	Seq     int64     `json:"audit_row"`
}

// Segment is a range of rows.
type Segment struct {
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// Checkpoint is the signed checkpoint the segment ends at.
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
	File string    `json:"file"`
}

// ErrNoRequest: the rows hold no submission of the request.
var ErrNoRequest = errors.New("evidence: the audit rows hold no submission of the request")

// SegmentOf returns the rows of the grant's segment: from the request's
// submission through the row the checkpoint states. rows must be in order
// and hold that range.
func SegmentOf(requestID string, rows []audit.Record, cp audit.Checkpoint) ([]audit.Record, error) {
	i := slices.IndexFunc(rows, func(r audit.Record) bool { return r.Subject == requestID && r.Action == "request.submitted" })
	if i < 0 {
		return nil, fmt.Errorf("%w %s", ErrNoRequest, requestID)
	}
	j := slices.IndexFunc(rows, func(r audit.Record) bool { return r.Seq == cp.Seq })
	if j < i {
		return nil, fmt.Errorf("evidence: the checkpoint of %s does not cover the request's rows", cp)
	}
	return rows[i : j+1], nil
}

// Summarize derives the grant's summary from its segment (rows from its
// submission on, in order) and the checkpoint the segment ends at. It is a
// pure function of them: the bundle's evidence.json is its result, and
// Verify derives it again.
func Summarize(requestID string, segment []audit.Record, cp audit.Checkpoint) (*Summary, error) {
	s, _, err := summarize(requestID, segment, cp)
	return s, err
}

// summarize is Summarize, returning the certificate files too.
func summarize(requestID string, segment []audit.Record, cp audit.Checkpoint) (*Summary, map[string][]byte, error) {
	s, err := summarizeRows(requestID, segment, cp)
	if err != nil {
		return nil, nil, err
	}
	certs := s.certs
	s.certs = nil
	return s, certs, nil
}

func summarizeRows(requestID string, segment []audit.Record, cp audit.Checkpoint) (*Summary, error) {
	if len(segment) == 0 || segment[0].Subject != requestID || segment[0].Action != "request.submitted" {
		return nil, fmt.Errorf("%w %s at the start of the segment", ErrNoRequest, requestID)
	}
	s := &Summary{Format: Format, Approvals: []Approval{}, Decisions: []Decision{}, Certificates: []Certificate{},
		Sessions: []Session{}, Other: []Row{}, Rows: []int64{}, certs: map[string][]byte{},
		Segment:    Segment{First: segment[0].Seq, Last: segment[len(segment)-1].Seq},
		Checkpoint: Checkpoint{Seq: cp.Seq, Hash: fmt.Sprintf("%x", cp.Hash), Time: cp.Time.UTC(), File: CheckpointFile}}
	sessions := map[string]int{} // session ID to its index in s.Sessions
	for _, r := range segment {
		idx, isSession := sessions[r.Subject]
		if r.Subject != requestID && !isSession && r.Action != "session.started" {
			continue // another grant's row, or the log's own
		}
		var d detail
		at := r.Time.UTC()
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			// Details this summary does not read as it expects: the row
			// is listed as it is, or is another grant's.
			if r.Subject == requestID || isSession {
				s.Other = append(s.Other, Row{Action: r.Action, Actor: r.Actor, Subject: r.Subject, At: at, Seq: r.Seq})
				s.Rows = append(s.Rows, r.Seq)
			}
			continue
		}
		switch {
		case r.Subject == requestID:
			s.add(r, d, at)
		case r.Action == "session.started" && d.Request == requestID:
			sessions[r.Subject] = len(s.Sessions)
			s.Sessions = append(s.Sessions, Session{ID: r.Subject, User: d.User, Resource: d.Resource, Command: d.Command,
				Client: d.Client, Bastion: r.Actor, StartedAt: at, StartSeq: r.Seq})
		case isSession:
			s.addToSession(&s.Sessions[idx], r, d, at)
		default:
			continue
		}
		s.Rows = append(s.Rows, r.Seq)
	}
	return s, nil
}

// detail holds the fields of audit details that a summary uses.
type detail struct {
	User        string    `json:"user"`
	Role        string    `json:"role"`
	Resources   []string  `json:"resources"`
	Resource    string    `json:"resource"`
	Duration    string    `json:"duration"`
	Reason      string    `json:"reason"`
	Ticket      string    `json:"ticket"`
	Request     string    `json:"request"`
	Command     string    `json:"command"`
	Client      string    `json:"client"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Serial      string    `json:"serial"`
	KeyID       string    `json:"key_id"`
	Principals  []string  `json:"principals"`
	ValidAfter  time.Time `json:"valid_after"`
	ValidBefore time.Time `json:"valid_before"`
	Fingerprint string    `json:"fingerprint"`
	Certificate string    `json:"certificate"`
	ExitStatus  *int64    `json:"exit_status"`
	EndedAt     string    `json:"ended_at"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
}

// add takes a row whose subject is the request.
func (s *Summary) add(r audit.Record, d detail, at time.Time) {
	switch r.Action {
	case "request.submitted":
		if s.Request.ID == "" {
			s.Request = Request{ID: r.Subject, User: d.User, Role: d.Role, Resources: d.Resources, Duration: d.Duration,
				Reason: d.Reason, Ticket: d.Ticket, SubmittedAt: at, SubmittedBy: r.Actor, Seq: r.Seq}
			return
		}
	case "approval.recorded":
		s.Approvals = append(s.Approvals, Approval{By: r.Actor, At: at, Reason: d.Reason, Seq: r.Seq})
		return
	case "request.approved", "request.denied", "request.expired", "grant.revoked", "grant.expired":
		s.Decisions = append(s.Decisions, Decision{Action: r.Action, By: r.Actor, At: at, Reason: d.Reason,
			NotBefore: d.NotBefore.UTC(), NotAfter: d.NotAfter.UTC(), Seq: r.Seq})
		return
	case "usercert.issued", "hopcert.issued":
		c := Certificate{Kind: "user", Serial: d.Serial, KeyID: d.KeyID, Principals: d.Principals,
			ValidAfter: d.ValidAfter.UTC(), ValidBefore: d.ValidBefore.UTC(), Fingerprint: d.Fingerprint,
			IssuedAt: at, IssuedTo: r.Actor, Seq: r.Seq}
		if r.Action == "hopcert.issued" {
			c.Kind = "hop"
		}
		if d.Certificate != "" {
			c.File = certificateFile(r.Seq, c.Serial)
			s.certs[c.File] = []byte(d.Certificate + "\n")
		}
		s.Certificates = append(s.Certificates, c)
		return
	}
	s.Other = append(s.Other, Row{Action: r.Action, Actor: r.Actor, Subject: r.Subject, At: at, Seq: r.Seq})
}

// addToSession takes a row whose subject is one of the grant's sessions.
func (s *Summary) addToSession(sess *Session, r audit.Record, d detail, at time.Time) {
	switch r.Action {
	case "session.ended":
		sess.EndedAt, sess.EndReason, sess.ExitStatus, sess.EndSeq = at, d.Reason, d.ExitStatus, r.Seq
		if t, err := time.Parse(time.RFC3339Nano, d.EndedAt); err == nil {
			sess.EndedAt = t.UTC()
		}
		return
	case "recording.stored":
		// A bastion that uploads again (its answer lost) stores the
		// recording again; the latest is the one the CA serves.
		if old := sess.Recording; old != nil {
			s.Other = append(s.Other, Row{Action: r.Action, Actor: r.Actor, Subject: r.Subject, At: old.At, Seq: old.Seq})
		}
		sess.Recording = &Recording{File: recordingFile(r.Seq, sess.ID), Size: d.Size, SHA256: d.SHA256, At: at, Seq: r.Seq}
		return
	}
	s.Other = append(s.Other, Row{Action: r.Action, Actor: r.Actor, Subject: r.Subject, At: at, Seq: r.Seq})
}

// The bundle's fixed files.
const (
	ManifestFile   = "manifest.json"
	SummaryFile    = "evidence.json"
	RowsFile       = "audit/rows.jsonl"
	CheckpointFile = "audit/checkpoint.txt"
)

// certificateFile names a certificate's file: by its serial, or by its
// audit row if the serial is not a plain number.
func certificateFile(seq int64, serial string) string {
	if safeName(serial, "0123456789") {
		return "certificates/" + serial + "-cert.pub"
	}
	return fmt.Sprintf("certificates/row-%d-cert.pub", seq)
}

// recordingFile names a session's recording: by the session's ID, or by
// its audit row if the ID would not make a plain file name.
func recordingFile(seq int64, session string) string {
	if safeName(session, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") {
		return "recordings/" + session + ".cast.gz"
	}
	return fmt.Sprintf("recordings/row-%d.cast.gz", seq)
}

func safeName(s, alphabet string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(alphabet, rune(s[i])) {
			return false
		}
	}
	return true
}
