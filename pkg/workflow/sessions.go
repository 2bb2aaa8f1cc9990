package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Errors of the session workflow.
var (
	ErrSessionActive = errors.New("another session is open")
	ErrNoSession     = errors.New("no such session")
	ErrNoRecording   = errors.New("no recording")
)

// Recordings is where the CA keeps session recordings.
type Recordings interface {
	Put(id string, r io.Reader, max int64) (size int64, sha256 string, err error)
	Get(id string) (io.ReadCloser, error)
}

// SessionStart is what a bastion asks when a user has logged in.
type SessionStart struct {
	RequestID  string
	Resource   string
	User       string
	ClientAddr string
	Command    string
}

// Target is where and how the bastion connects for a session.
type Target struct {
	Address string
	Login   string
	HostKey ssh.PublicKey // nil: trust the host CA
}

// SessionGrant is the CA's yes to a session.
type SessionGrant struct {
	Session         *store.Session
	NotAfter        time.Time // the grant's end
	LeaseTTL        time.Duration
	Target          Target
	Interactive     bool
	AllowedCommands []string
	// ExecCommand is what the bastion asks the target to run for the
	// client's command: with allowed commands, the words the CA matched,
	// each quoted (policy.QuoteCommand), so no shell on the target reads
	// them as syntax; otherwise the command as the client sent it. Empty
	// for a shell.
	ExecCommand string
}

// SessionStatus is what a heartbeat learns about a session.
type SessionStatus struct {
	Live     bool
	Reason   string // why not live, for the user
	Ended    string // why not live, for the bastion: EndedRevoked, EndedExpired or EndedLost
	NotAfter time.Time
}

// Why a heartbeat reports a session not live.
const (
	EndedRevoked = "revoked"
	EndedExpired = "expired"
	EndedLost    = "lost" // lease lost, session unknown or already ended
)

// StartSession opens a session for a bastion: the grant must be live and
// the user's, the resource in it, and the user must have no other session
// open on any bastion (the lease).
func (s *Service) StartSession(ctx context.Context, actor Actor, in SessionStart) (*SessionGrant, error) {
	const refused = "session.refused"
	p := s.policy()
	if p.Bastions[actor.Bastion()] == nil {
		return nil, s.RecordRefusal(ctx, actor, refused, in.RequestID, fmt.Errorf("%w: %s", ErrNotBastion, actor))
	}
	id, err := s.newSessionID()
	if err != nil {
		return nil, err
	}
	var g *SessionGrant
	err = s.update(ctx, func(tx store.Tx) error {
		g = nil
		now := s.now()
		r, err := tx.Request(in.RequestID)
		if errors.Is(err, store.ErrNotFound) {
			return s.refuse(tx, actor, refused, in.RequestID, fmt.Errorf("%w: %s", ErrNotFound, in.RequestID), nil)
		}
		if err != nil {
			return err
		}
		detail := map[string]any{"user": in.User, "resource": in.Resource, "client": in.ClientAddr}
		role, res, why := grantRefusal(p, r, in.User, in.Resource, now)
		if why != nil {
			return s.refuse(tx, actor, refused, r.ID, why, detail)
		}
		if err := checkCommand(role, in.Command); err != nil {
			detail["command"] = in.Command
			return s.refuse(tx, actor, refused, r.ID, err, detail)
		}
		holder, err := tx.TakeLease(store.Lease{User: in.User, SessionID: id, Bastion: actor.Bastion(), Expires: now.Add(s.cfg.LeaseTTL)}, now)
		if errors.Is(err, store.ErrConflict) {
			return s.refuse(tx, actor, refused, r.ID, fmt.Errorf("%w: %s already has session %s open (one session per user)", ErrSessionActive, in.User, holder.SessionID), detail)
		}
		if err != nil {
			return err
		}
		sess := &store.Session{ID: id, User: in.User, RequestID: r.ID, Resource: in.Resource, Role: r.Role, Bastion: actor.Bastion(),
			ClientAddr: in.ClientAddr, Command: in.Command, StartedAt: now}
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		detail["request"], detail["role"], detail["command"] = r.ID, r.Role, in.Command
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "session.started", Subject: id, Detail: detail}); err != nil {
			return err
		}
		if err := s.notifySession(tx, notify.SessionStarted, sess); err != nil {
			return err
		}
		g = &SessionGrant{Session: sess, NotAfter: r.NotAfter, LeaseTTL: s.cfg.LeaseTTL,
			Target:      Target{Address: res.Address, Login: role.Login, HostKey: res.HostKey},
			Interactive: role.Interactive, AllowedCommands: role.AllowedCommands, ExecCommand: execCommand(role, in.Command)}
		setResult(ctx, g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func grantState(r *store.Request, now time.Time) string {
	if r.State == store.Approved && !now.Before(r.NotAfter) {
		return "expired"
	}
	return string(r.State)
}

func (s *Service) newSessionID() (string, error) {
	id, err := s.newID()
	if err != nil {
		return "", err
	}
	return "sess-" + id[len("req-"):], nil
}

// Heartbeat renews the leases of a bastion's open sessions and tells it,
// for each, whether its grant is still live. A session whose lease is lost
// or whose grant ended is reported not live, with the reason to show the
// user.
func (s *Service) Heartbeat(ctx context.Context, actor Actor, ids []string) (map[string]SessionStatus, error) {
	if s.policy().Bastions[actor.Bastion()] == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotBastion, actor)
	}
	out := map[string]SessionStatus{}
	err := s.update(ctx, func(tx store.Tx) error {
		clear(out)
		now := s.now()
		for _, id := range ids {
			st, err := s.beat(tx, actor, id, now)
			if err != nil {
				return err
			}
			out[id] = st
		}
		return nil
	})
	return out, err
}

func (s *Service) beat(tx store.Tx, actor Actor, id string, now time.Time) (SessionStatus, error) {
	sess, err := tx.Session(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Bastion != actor.Bastion()) {
		return SessionStatus{Reason: "unknown session", Ended: EndedLost}, nil
	}
	if err != nil {
		return SessionStatus{}, err
	}
	if !sess.EndedAt.IsZero() {
		return SessionStatus{Reason: "session already ended: " + sess.EndReason, Ended: EndedLost}, nil
	}
	r, err := tx.Request(sess.RequestID)
	if err != nil {
		return SessionStatus{}, err
	}
	switch {
	case r.State == store.Revoked:
		return SessionStatus{Reason: fmt.Sprintf("grant revoked by %s: %s", r.DecidedBy, r.Decision), Ended: EndedRevoked}, nil
	case !r.Live(now):
		return SessionStatus{Reason: "grant ended at " + r.NotAfter.UTC().Format(time.RFC3339), Ended: EndedExpired}, nil
	}
	err = tx.RenewLease(sess.User, id, now.Add(s.cfg.LeaseTTL))
	if errors.Is(err, store.ErrNotFound) {
		return SessionStatus{Reason: "session lease lost (the bastion did not renew it in time)", Ended: EndedLost}, nil
	}
	if err != nil {
		return SessionStatus{}, err
	}
	return SessionStatus{Live: true, NotAfter: r.NotAfter}, nil
}

// EndSession records why a session ended, now, and frees the user's lease.
func (s *Service) EndSession(ctx context.Context, actor Actor, id, reason string) error {
	return s.ReportSessionEnd(ctx, actor, id, SessionEnd{Reason: reason})
}

// SessionEnd is how a bastion says a session ended.
type SessionEnd struct {
	Reason string
	// At is when it ended; zero means now. A bastion that could not reach
	// the CA then reports it later.
	At         time.Time
	ExitStatus *int // the status the client was given, if any
}

// ReportSessionEnd records a session's end and frees the user's lease. A
// retried report of a session already ended changes nothing. The end time
// is kept within [start, now]; a report that comes late says so in the
// audit row.
func (s *Service) ReportSessionEnd(ctx context.Context, actor Actor, id string, end SessionEnd) error {
	reason := end.Reason
	if len(reason) > maxDecisionReason {
		reason = reason[:maxDecisionReason]
	}
	return s.update(ctx, func(tx store.Tx) error {
		sess, err := s.bastionSession(tx, actor, id)
		if err != nil {
			return err
		}
		if !sess.EndedAt.IsZero() {
			return nil // ended already: the bastion retried
		}
		now := s.now()
		at := end.At.UTC()
		if at.IsZero() || at.After(now) {
			at = now
		}
		if at.Before(sess.StartedAt) {
			at = sess.StartedAt
		}
		sess.EndedAt, sess.EndReason = at, reason
		if err := tx.UpdateSession(sess); err != nil {
			return err
		}
		if err := tx.ReleaseLease(sess.User, id); err != nil {
			return err
		}
		detail := map[string]any{"user": sess.User, "request": sess.RequestID, "resource": sess.Resource,
			"reason": reason, "duration": at.Sub(sess.StartedAt).Round(time.Millisecond).String()}
		if end.ExitStatus != nil {
			detail["exit_status"] = *end.ExitStatus
		}
		if late := now.Sub(at); late >= time.Second {
			detail["ended_at"] = at.Format(time.RFC3339Nano)
			detail["reported_late_by"] = late.Round(time.Millisecond).String()
		}
		if err := record(tx, audit.Event{Time: now, Actor: string(actor), Action: "session.ended", Subject: id, Detail: detail}); err != nil {
			return err
		}
		return s.notifySession(tx, notify.SessionEnded, sess)
	})
}

// bastionSession reads session id and checks that actor's bastion runs it.
func (s *Service) bastionSession(tx store.Tx, actor Actor, id string) (*store.Session, error) {
	sess, err := tx.Session(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	if err != nil {
		return nil, err
	}
	if actor.Bastion() == "" || sess.Bastion != actor.Bastion() {
		return nil, fmt.Errorf("%w: %s is not %s's session", ErrForbidden, id, actor)
	}
	return sess, nil
}

// MaxRecording bounds one session's recording.
const MaxRecording = 1 << 30

// StoreRecording keeps a session's recording as the bastion uploads it
// (again, if an earlier upload's answer was lost).
func (s *Service) StoreRecording(ctx context.Context, actor Actor, id string, r io.Reader) error {
	if s.cfg.Recordings == nil {
		return errors.New("no recording store configured")
	}
	var sess *store.Session
	if err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { sess, err = s.bastionSession(tx, actor, id); return err }); err != nil {
		return err
	}
	size, sum, err := s.cfg.Recordings.Put(id, r, MaxRecording)
	var failure error
	switch {
	case errors.Is(err, recstore.ErrFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		failure = ErrStorageFull
	case errors.Is(err, recstore.ErrUnavailable):
		failure = ErrStorageUnavailable
	case err != nil:
		return fmt.Errorf("storing the recording of %s: %w", id, err)
	}
	if failure != nil {
		err = fmt.Errorf("%w: storing the recording of %s: %w", failure, id, err)
		// The bastion keeps the recording and uploads it again; the
		// failed attempt is on the record.
		if aerr := s.update(ctx, func(tx store.Tx) error {
			return record(tx, audit.Event{Time: s.now(), Actor: string(actor), Action: "recording.store_failed", Subject: id,
				Detail: map[string]any{"reason": failure.Error(), "user": sess.User}})
		}); aerr != nil {
			return errors.Join(err, fmt.Errorf("auditing the failed upload: %w", aerr))
		}
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		cur, err := tx.Session(id)
		if err != nil {
			return err
		}
		now := s.now()
		cur.RecordingSize, cur.RecordingSHA256, cur.RecordedAt = size, sum, now
		if err := tx.UpdateSession(cur); err != nil {
			return err
		}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "recording.stored", Subject: id,
			Detail: map[string]any{"size": size, "sha256": sum, "user": sess.User}})
	})
}

// Sessions lists sessions: auditors see everyone's, others their own.
func (s *Service) Sessions(ctx context.Context, actor Actor, f store.SessionFilter) ([]*store.Session, error) {
	if !actor.IsUser() {
		return nil, fmt.Errorf("%w: only people list sessions", ErrForbidden)
	}
	if !s.policy().IsAuditor(actor.User()) {
		f.User = actor.User()
	}
	var out []*store.Session
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { out, err = tx.Sessions(f); return err })
	return out, err
}

// Recording opens a session's recording for replay: auditors and the
// session's own user. Reading it is audited.
func (s *Service) Recording(ctx context.Context, actor Actor, id string) (io.ReadCloser, *store.Session, error) {
	var sess *store.Session
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { sess, err = tx.Session(id); return err })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	if err != nil {
		return nil, nil, err
	}
	if !actor.IsUser() || (actor.User() != sess.User && !s.policy().IsAuditor(actor.User())) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	if sess.RecordedAt.IsZero() || s.cfg.Recordings == nil {
		return nil, nil, fmt.Errorf("%w for %s yet", ErrNoRecording, id)
	}
	rc, err := s.cfg.Recordings.Get(id)
	if errors.Is(err, recstore.ErrUnavailable) {
		return nil, nil, fmt.Errorf("%w: reading the recording of %s: %w", ErrStorageUnavailable, id, err)
	}
	if errors.Is(err, recstore.ErrNotFound) {
		// Stored once, gone now: removed behind the CA's back.
		missing := fmt.Errorf("%w: the store has no recording for %s, stored at %s", recstore.ErrMismatch, id, sess.RecordedAt.UTC().Format(time.RFC3339))
		s.recordingMismatch(actor, sess, missing)
		return nil, nil, fmt.Errorf("%w: %w", ErrRecordingMismatch, missing)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNoRecording, err)
	}
	if err := s.update(ctx, func(tx store.Tx) error {
		return record(tx, audit.Event{Time: s.now(), Actor: string(actor), Action: "recording.viewed", Subject: id})
	}); err != nil {
		rc.Close()
		return nil, nil, err
	}
	verified := recstore.Verify(rc, sess.RecordingSize, sess.RecordingSHA256, func(mismatch error) {
		s.recordingMismatch(actor, sess, mismatch)
	})
	return mismatchReader{verified}, sess, nil
}

// mismatchReader names recstore.ErrMismatch as ErrRecordingMismatch.
type mismatchReader struct{ io.ReadCloser }

func (m mismatchReader) Read(p []byte) (int, error) {
	n, err := m.ReadCloser.Read(p)
	if errors.Is(err, recstore.ErrMismatch) {
		err = fmt.Errorf("%w: %w", ErrRecordingMismatch, err)
	}
	return n, err
}

// recordingMismatch audits a recording that, read back, was not the one
// stored (Recording's reader then fails rather than hand it over whole).
func (s *Service) recordingMismatch(actor Actor, sess *store.Session, mismatch error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Best effort: the reader's error reaches the caller anyway, who logs it.
	_ = s.update(ctx, func(tx store.Tx) error {
		return record(tx, audit.Event{Time: s.now(), Actor: string(actor), Action: "recording.mismatch", Subject: sess.ID,
			Detail: map[string]any{"user": sess.User, "size": sess.RecordingSize, "sha256": sess.RecordingSHA256, "error": mismatch.Error()}})
	})
}

// execCommand is the command the bastion sends the target for command,
// which checkCommand allowed: for a role with allowed commands, the matched
// words re-quoted.
func execCommand(role *policy.Role, command string) string {
	if len(role.AllowedCommands) == 0 {
		return command
	}
	words, err := policy.SplitCommand(command)
	if err != nil {
		return "" // not reached: such a command matches no pattern
	}
	return policy.QuoteCommand(words)
}

// checkCommand applies the role's command rules at the bastion (the
// target's command gate applies them again): a shell only for interactive
// roles without allowed commands, and a command only if it matches one.
func checkCommand(role *policy.Role, command string) error {
	switch {
	case command == "" && (!role.Interactive || len(role.AllowedCommands) > 0):
		return fmt.Errorf("%w: role %s gives no shell; run one of: %s", ErrCommand, role.Name, strings.Join(role.AllowedCommands, "; "))
	case command != "" && len(role.AllowedCommands) > 0 && !policy.MatchCommand(role.AllowedCommands, command):
		return fmt.Errorf("%w: role %s allows only: %s", ErrCommand, role.Name, strings.Join(role.AllowedCommands, "; "))
	}
	return nil
}
