package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Live view: bastions report each running session's output as it happens
// (ReportLive); the CA keeps the last LiveConfig.Buffer bytes of it per
// session in the store, so that a watcher on any replica reads what a
// bastion reported to any other. Auditors, and the people who approved a
// session's grant, may list and watch it; nobody else learns that it
// exists. Every watch's start and end is audited, and so is a watcher
// ending the session.

// ErrWatchEnded: the watch is over (stopped, or its watcher read nothing
// for LiveConfig.WatchTimeout); start another.
var ErrWatchEnded = errors.New("the watch has ended")

// LiveConfig bounds live view.
type LiveConfig struct {
	// Buffer is how many of a session's latest output bytes the store
	// keeps for watchers; a watcher further behind skips ahead. Default
	// DefaultLiveBuffer.
	Buffer int64
	// WatchTimeout ends a watch whose watcher has read nothing for this
	// long (a closed browser tab). Default DefaultWatchTimeout.
	WatchTimeout time.Duration
	// Grace is how long a session's live rows outlive its bastion's last
	// report (the bastion reports every open session at least every
	// second): then they are deleted. Default DefaultLiveGrace.
	Grace time.Duration
}

// Defaults of LiveConfig.
const (
	DefaultLiveBuffer   = 1 << 20
	DefaultWatchTimeout = 30 * time.Second
	DefaultLiveGrace    = 2 * time.Minute
	// MaxLiveRead bounds the output one read returns.
	MaxLiveRead = 256 << 10
	// MaxLiveReport bounds the output one report carries per session.
	MaxLiveReport = 1 << 20
)

func (c *LiveConfig) setDefaults() {
	if c.Buffer <= 0 {
		c.Buffer = DefaultLiveBuffer
	}
	if c.WatchTimeout <= 0 {
		c.WatchTimeout = DefaultWatchTimeout
	}
	if c.Grace <= 0 {
		c.Grace = DefaultLiveGrace
	}
}

// LiveReport is a bastion's report of one running session: its output
// from Offset on (Data, possibly empty), and the user's last keystroke.
// An Offset past what the CA has means the bastion dropped output it
// could not send in time; watchers are told they skipped it.
type LiveReport struct {
	SessionID string
	Offset    int64
	Data      []byte
	LastInput time.Time
}

// LiveAnswer is what the bastion learns for one reported session: who
// watches it (empty when the role keeps watchers unannounced), and, if a
// watcher ended it, the reason to end it with.
type LiveAnswer struct {
	Watchers []string
	Stop     string
}

// ReportLive stores what a bastion reports of its running sessions and
// answers, per session, who watches and whether a watcher ended it. A
// session that is not this bastion's, or has ended, is left out of the
// answer. It also ends watches whose watcher went away and forgets
// sessions no bastion reported for LiveConfig.Grace.
func (s *Service) ReportLive(ctx context.Context, actor Actor, reports []LiveReport) (map[string]LiveAnswer, error) {
	p := s.policy()
	if p.Bastions[actor.Bastion()] == nil {
		return nil, s.RecordRefusal(ctx, actor, "live.refused", "report", fmt.Errorf("%w: %s", ErrNotBastion, actor))
	}
	for _, r := range reports {
		if r.Offset < 0 || len(r.Data) > MaxLiveReport {
			return nil, fmt.Errorf("%w: a live report of %s out of bounds", ErrBadInput, r.SessionID)
		}
	}
	out := map[string]LiveAnswer{}
	var stored []store.LiveChunk
	err := s.update(ctx, func(tx store.Tx) error {
		clear(out)
		stored = stored[:0]
		now := s.now()
		if err := tx.DeleteStaleLive(now.Add(-s.cfg.Live.Grace)); err != nil {
			return err
		}
		watches, err := s.expireWatches(tx, now)
		if err != nil {
			return err
		}
		states, err := tx.LiveStates()
		if err != nil {
			return err
		}
		known := map[string]*store.LiveState{}
		for _, st := range states {
			known[st.SessionID] = st
		}
		for _, r := range reports {
			sess, err := tx.Session(r.SessionID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			// Output that arrives just after the end was recorded (the
			// client left first) is still kept for watchers.
			ended := !sess.EndedAt.IsZero()
			if sess.Bastion != actor.Bastion() || (ended && now.Sub(sess.EndedAt) > s.cfg.Live.Grace) {
				continue
			}
			st := known[r.SessionID]
			if st == nil {
				st = &store.LiveState{SessionID: r.SessionID}
			}
			c, err := s.storeLive(tx, st, r, now)
			if err != nil {
				return err
			}
			if c != nil { // kept for this replica's watchers: a copy the caller cannot change
				c.Data = slices.Clone(c.Data)
				stored = append(stored, *c)
			}
			if ended {
				continue
			}
			a := LiveAnswer{}
			if st.StopBy != "" {
				a.Stop = fmt.Sprintf("ended by %s, who was watching: %s", st.StopBy, st.StopReason)
			}
			if role := p.Roles[sess.Role]; role == nil || !role.SilentWatch {
				a.Watchers = watchersOf(watches, r.SessionID)
			}
			out[r.SessionID] = a
		}
		return nil
	})
	if err == nil {
		// This replica's watchers of these sessions read them next: wake
		// them.
		s.live.put(stored)
		ids := make([]string, len(reports))
		for i, r := range reports {
			ids[i] = r.SessionID
		}
		s.waits.reported(ids)
	}
	return out, err
}

// storeLive adds what r brings beyond what st has, and prunes the
// session's output to the buffer; it returns the chunk it stored, if any.
func (s *Service) storeLive(tx store.Tx, st *store.LiveState, r LiveReport, now time.Time) (*store.LiveChunk, error) {
	data, off := r.Data, r.Offset
	if off < st.End { // sent again: keep only what is new
		skip := min(st.End-off, int64(len(data)))
		data, off = data[skip:], off+skip
	}
	var c *store.LiveChunk
	if len(data) > 0 {
		c = &store.LiveChunk{SessionID: r.SessionID, Offset: off, Data: data, At: now}
		if err := tx.AddLiveChunk(*c); err != nil {
			return nil, err
		}
		st.End = off + int64(len(data))
		if err := tx.PruneLiveChunks(r.SessionID, st.End-s.cfg.Live.Buffer); err != nil {
			return nil, err
		}
	} else if off > st.End {
		st.End = off
	} else if !r.LastInput.After(st.LastInput) && now.Sub(st.Updated) < s.cfg.Live.Grace/4 {
		return nil, nil // a keepalive of an idle session: nothing to write yet
	}
	if r.LastInput.After(st.LastInput) {
		st.LastInput = r.LastInput.UTC()
	}
	st.Updated = now
	return c, tx.PutLiveState(st)
}

// expireWatches ends, with an audit row each, the watches whose watcher
// read nothing for the watch timeout, and returns the others.
func (s *Service) expireWatches(tx store.Tx, now time.Time) ([]*store.LiveWatch, error) {
	all, err := tx.LiveWatches("")
	if err != nil {
		return nil, err
	}
	var kept []*store.LiveWatch
	for _, w := range all {
		if now.Sub(w.Seen) < s.cfg.Live.WatchTimeout {
			kept = append(kept, w)
			continue
		}
		if err := s.endWatch(tx, w, "the watcher stopped reading", now); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

func (s *Service) endWatch(tx store.Tx, w *store.LiveWatch, why string, now time.Time) error {
	if err := tx.DeleteLiveWatch(w.ID); err != nil {
		return err
	}
	return record(tx, audit.Event{Time: now, Actor: string(UserActor(w.Watcher)), Action: "session.watch_ended", Subject: w.SessionID,
		Detail: map[string]any{"watch": w.ID, "via": w.Via, "reason": why, "duration": now.Sub(w.Started).Round(time.Millisecond).String()}})
}

// watchersOf names the people watching session, each once, in the order
// they started.
func watchersOf(watches []*store.LiveWatch, session string) []string {
	var out []string
	for _, w := range watches {
		if w.SessionID == session && !slices.Contains(out, w.Watcher) {
			out = append(out, w.Watcher)
		}
	}
	return out
}

// mayWatch reports whether actor may watch sess: an auditor, or someone
// who approved its grant.
func (s *Service) mayWatch(tx store.Tx, actor Actor, sess *store.Session) (bool, error) {
	if !actor.IsUser() {
		return false, nil
	}
	if s.policy().IsAuditor(actor.User()) {
		return true, nil
	}
	approvals, err := tx.Approvals(sess.RequestID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(approvals, func(a store.Approval) bool { return a.Approver == actor.User() }), nil
}

const liveRefused = "session.watch_refused"

// watchable reads session id for actor: ErrNoSession, audited, unless it
// exists and actor may watch it.
func (s *Service) watchable(tx store.Tx, actor Actor, id string) (*store.Session, error) {
	sess, err := s.checkWatchable(tx, actor, id)
	if errors.Is(err, ErrNoSession) {
		return nil, s.refuse(tx, actor, liveRefused, id, err, nil)
	}
	return sess, err
}

// checkWatchable is watchable without the audit row, for read-only
// transactions: the caller audits an ErrNoSession.
func (s *Service) checkWatchable(tx store.Tx, actor Actor, id string) (*store.Session, error) {
	sess, err := tx.Session(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.mayWatch(tx, actor, sess)
	if err != nil {
		return nil, err
	}
	if !ok {
		// The same answer as for a session that does not exist.
		return nil, fmt.Errorf("%w: %s", ErrNoSession, id)
	}
	return sess, nil
}

// LiveSession is a running session as its watchers see it listed.
type LiveSession struct {
	Session   *store.Session
	LastInput time.Time // zero: no keystroke yet
	Updated   time.Time // the bastion's last report
	Watchers  []string
}

// LiveSessions lists the running sessions actor may watch: every one for
// an auditor, those of the grants they approved for anyone else. Someone
// who may watch none of them is refused (and audited), so that a list
// never tells an engineer more than a refusal.
func (s *Service) LiveSessions(ctx context.Context, actor Actor) ([]LiveSession, error) {
	out, err := s.WatchableLive(ctx, actor)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 && (!actor.IsUser() || !s.policy().IsAuditor(actor.User())) {
		return nil, s.RecordRefusal(ctx, actor, liveRefused, "sessions",
			fmt.Errorf("%w: only auditors and the approvers of a grant see its live sessions", ErrForbidden))
	}
	return out, nil
}

// WatchableLive is LiveSessions without the refusal: an empty list for
// someone who may watch nothing (the web's session list marks what runs).
func (s *Service) WatchableLive(ctx context.Context, actor Actor) ([]LiveSession, error) {
	var out []LiveSession
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		out = nil
		states, err := tx.LiveStates()
		if err != nil {
			return err
		}
		watches, err := tx.LiveWatches("")
		if err != nil {
			return err
		}
		for _, st := range states {
			sess, err := tx.Session(st.SessionID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !sess.EndedAt.IsZero() {
				continue
			}
			ok, err := s.mayWatch(tx, actor, sess)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, LiveSession{Session: sess, LastInput: st.LastInput, Updated: st.Updated, Watchers: watchersOf(watches, sess.ID)})
			}
		}
		return nil
	})
	return out, err
}

// WatchableSession returns session id if actor may watch it (whether or
// not it still runs); ErrNoSession, audited, otherwise.
func (s *Service) WatchableSession(ctx context.Context, actor Actor, id string) (*store.Session, error) {
	var sess *store.Session
	err := s.update(ctx, func(tx store.Tx) (err error) { sess, err = s.watchable(tx, actor, id); return err })
	return sess, err
}

// StartWatch starts actor watching session id through via ("web" or
// "cli"), audited; the session must be running.
func (s *Service) StartWatch(ctx context.Context, actor Actor, id, via string) (*store.LiveWatch, error) {
	if via != "web" && via != "cli" {
		return nil, fmt.Errorf("%w: via must be web or cli", ErrBadInput)
	}
	wid, err := s.newID()
	if err != nil {
		return nil, err
	}
	var w *store.LiveWatch
	err = s.update(ctx, func(tx store.Tx) error {
		w = nil
		sess, err := s.watchable(tx, actor, id)
		if err != nil {
			return err
		}
		if !sess.EndedAt.IsZero() {
			return s.refuse(tx, actor, liveRefused, id, fmt.Errorf("%w: %s ended at %s: %s", ErrNotRunning, id,
				sess.EndedAt.Format(time.RFC3339), sess.EndReason), nil)
		}
		now := s.now()
		w = &store.LiveWatch{ID: "watch-" + wid[len("req-"):], SessionID: id, Watcher: actor.User(), Via: via, Started: now, Seen: now}
		if err := tx.AddLiveWatch(w); err != nil {
			return err
		}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "session.watch_started", Subject: id,
			Detail: map[string]any{"watch": w.ID, "via": via, "user": sess.User, "request": sess.RequestID, "resource": sess.Resource}})
	})
	return w, err
}

// ErrNotRunning: the session has ended; its recording replays it.
var ErrNotRunning = errors.New("the session is not running")

// LiveRead is what one read of a watch returns: output from Offset on,
// where Next continues. Skipped counts the bytes between the offset asked
// for and Offset that the watcher will never see: they left the buffer
// before the watcher read them, or the bastion dropped them. Ended is
// set once the session ended and everything stored was read. Data may be
// the replica's own copy of the stored output, shared with other reads:
// never change it.
type LiveRead struct {
	Offset    int64
	Data      []byte
	Next      int64
	Skipped   int64
	Ended     bool
	EndReason string
	Watchers  []string
}

// ReadLive returns the output of session id after offset after for
// watch wid, which must be actor's. after < 0 starts at the oldest byte
// kept. It reads in a read-only transaction, and writes only to record
// now and then that the watcher still reads, and to audit a refusal.
func (s *Service) ReadLive(ctx context.Context, actor Actor, id, wid string, after int64) (*LiveRead, error) {
	var out *LiveRead
	touch := false
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		out = nil
		sess, err := s.checkWatchable(tx, actor, id)
		if err != nil {
			return err
		}
		// The session's watches, which the answer names, hold this one
		// (one query for both).
		watches, err := tx.LiveWatches(id)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(watches, func(w *store.LiveWatch) bool { return w.ID == wid })
		if i < 0 || watches[i].Watcher != actor.User() {
			return fmt.Errorf("%w: %.40q", ErrWatchEnded, wid)
		}
		touch = s.now().Sub(watches[i].Seen) >= s.cfg.Live.WatchTimeout/4
		if out, err = s.readLive(tx, sess, max(after, 0), after < 0); err != nil {
			return err
		}
		out.Watchers = watchersOf(watches, id)
		return nil
	})
	if errors.Is(err, ErrNoSession) {
		return nil, s.RecordRefusal(ctx, actor, liveRefused, id, err)
	}
	if err != nil {
		return nil, err
	}
	if touch {
		err := s.update(ctx, func(tx store.Tx) error { return tx.TouchLiveWatch(wid, s.now()) })
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrWatchEnded, wid)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ownWatch reads watch wid and its session, and checks that the watch is
// actor's and on session id and that actor may still watch it.
func (s *Service) ownWatch(tx store.Tx, actor Actor, id, wid string) (*store.LiveWatch, *store.Session, error) {
	sess, err := s.checkWatchable(tx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	w, err := tx.LiveWatch(wid)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (w.Watcher != actor.User() || w.SessionID != id)) {
		return nil, nil, fmt.Errorf("%w: %.40q", ErrWatchEnded, wid)
	}
	if err != nil {
		return nil, nil, err
	}
	return w, sess, nil
}

// readLive reads up to MaxLiveRead bytes after offset after; a reader
// more than that behind skips to the latest MaxLiveRead bytes, so that a
// watcher of bulk output costs the CA one read's worth per report.
func (s *Service) readLive(tx store.Tx, sess *store.Session, after int64, fromOldest bool) (*LiveRead, error) {
	asked := after
	st, err := tx.LiveState(sess.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if st != nil && st.End-after > MaxLiveRead {
		after = st.End - MaxLiveRead
	}
	chunks, err := s.liveChunks(tx, sess.ID, after, 64)
	if err != nil {
		return nil, err
	}
	out := &LiveRead{Offset: after, Next: after}
	for i, c := range chunks {
		if i == 0 && c.Offset > after {
			out.Offset, out.Next = c.Offset, c.Offset
		}
		if c.Offset > out.Next { // the bastion dropped output: stop at the gap
			break
		}
		data := c.Data[out.Next-c.Offset:]
		if len(out.Data)+len(data) > MaxLiveRead {
			data = data[:MaxLiveRead-len(out.Data)]
		}
		if out.Data == nil && len(data) > 0 {
			// A chunk never changes: a read within one shares its bytes
			// (capped, so that appending copies).
			out.Data = data[:len(data):len(data)]
		} else {
			out.Data = append(out.Data, data...)
		}
		out.Next += int64(len(data))
		if len(out.Data) >= MaxLiveRead {
			break
		}
	}
	switch {
	case len(chunks) == 0 && !sess.EndedAt.IsZero():
		out.Ended, out.EndReason = true, sess.EndReason
	case len(chunks) == 0 && st != nil && st.End > after:
		// Nothing kept after the offset: the bastion dropped what came
		// before its last report.
		out.Offset, out.Next = st.End, st.End
	}
	if out.Offset > asked && !fromOldest {
		out.Skipped = out.Offset - asked
	}
	return out, nil
}

// StopWatch ends actor's watch wid on session id, audited.
func (s *Service) StopWatch(ctx context.Context, actor Actor, id, wid string) error {
	return s.update(ctx, func(tx store.Tx) error {
		if _, err := s.watchable(tx, actor, id); err != nil {
			return err
		}
		w, _, err := s.ownWatch(tx, actor, id, wid)
		if errors.Is(err, ErrWatchEnded) {
			return nil // ended already
		}
		if err != nil {
			return err
		}
		return s.endWatch(tx, w, "stopped by the watcher", s.now())
	})
}

// EndWatched ends running session id on behalf of actor, who may watch
// it, with a reason: the bastion learns it from the answer to its next
// live report (within a second), tells the user, and ends the session,
// whose end row then names actor.
func (s *Service) EndWatched(ctx context.Context, actor Actor, id, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("%w: say why the session ends", ErrBadInput)
	}
	if len(reason) > maxDecisionReason {
		return fmt.Errorf("%w: the reason is over %d bytes", ErrBadInput, maxDecisionReason)
	}
	return s.update(ctx, func(tx store.Tx) error {
		sess, err := s.watchable(tx, actor, id)
		if err != nil {
			return err
		}
		if !sess.EndedAt.IsZero() {
			return s.refuse(tx, actor, liveRefused, id, fmt.Errorf("%w: %s ended already", ErrNotRunning, id), nil)
		}
		st, err := tx.LiveState(id)
		if errors.Is(err, store.ErrNotFound) {
			return s.refuse(tx, actor, liveRefused, id, fmt.Errorf("%w: no bastion reports %s live", ErrNotRunning, id), nil)
		}
		if err != nil {
			return err
		}
		now := s.now()
		if st.StopBy == "" {
			st.StopBy, st.StopReason, st.StopAt = actor.User(), reason, now
			if err := tx.PutLiveState(st); err != nil {
				return err
			}
		}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "session.end_requested", Subject: id,
			Detail: map[string]any{"reason": reason, "user": sess.User, "request": sess.RequestID, "resource": sess.Resource}})
	})
}

// MayWatch reports, without auditing anything, whether actor may watch
// session id (for pages that show a watch link only to those who may).
func (s *Service) MayWatch(ctx context.Context, actor Actor, id string) (bool, error) {
	var ok bool
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		_, err := s.checkWatchable(tx, actor, id)
		ok = err == nil
		if errors.Is(err, ErrNoSession) {
			return nil
		}
		return err
	})
	return ok, err
}

// LiveEnd returns the offset just after session id's latest output the CA
// has (0 if none): one cheap read for a waiting read to poll, once the
// caller's right to read was checked (ReadLive).
func (s *Service) LiveEnd(ctx context.Context, id string) (int64, error) {
	var end int64
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		st, err := tx.LiveState(id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err == nil {
			end = st.End
		}
		return err
	})
	return end, err
}
