package bastion

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Live view: every running session's output goes to the CA as it happens,
// one report for all of this bastion's sessions each LiveInterval, so
// that auditors and approvers can watch it. The relay never waits for it:
// output is copied into a bounded buffer per session, and what the CA
// could not take in time is dropped (watchers are told they skipped it).
// The answer to each report says who watches each session, which the
// user is told, and which session a watcher ended.

// LiveReporter is what the bastion needs from the CA for live view; a
// ControlPlane that also implements it (as *client.Client does) turns
// live view on. ReportLive must not keep r, or anything in it, once it
// returns: the bastion reuses the report's memory for the next one.
type LiveReporter interface {
	ReportLive(ctx context.Context, r wire.LiveReport) (map[string]wire.LiveFeedAnswer, error)
}

// Bounds of live view.
const (
	// livePending bounds one session's output waiting for the next
	// report; older bytes are dropped first.
	livePending = 256 << 10
	// liveReportBytes bounds the output of one report, all sessions
	// together (the CA takes 2 MiB of JSON, base64 included), and
	// liveSessionBytes one session's part of it: 640 KiB/s at the default
	// interval, more than anyone reads; bulk output beyond it is skipped.
	liveReportBytes  = 640 << 10
	liveSessionBytes = 128 << 10
	// liveKeepAlive is how often a session with no new output is still
	// reported, so that the CA keeps it listed and its answer (watchers,
	// an end) arrives.
	liveKeepAlive = time.Second
)

// liveFeed is one session's output on its way to the CA.
type liveFeed struct {
	id     string
	notify io.Writer         // the user's terminal (stderr of the session)
	end    func(cause error) // ends the session

	lastInput *atomic.Int64 // the relay's: Unix nanoseconds of the last keystroke

	mu       sync.Mutex
	pending  []byte
	offset   int64 // of pending[0] in the session's output
	reported time.Time
	watchers []string // announced to the user
}

// output takes a chunk of what the target sent the client. It never
// blocks on the CA: a chunk that would take the buffer over livePending
// drops what the buffer held (bulk output then costs one copy per byte,
// never a move of the buffer).
func (f *liveFeed) output(p []byte) {
	f.mu.Lock()
	if len(f.pending)+len(p) > livePending {
		f.offset += int64(len(f.pending))
		f.pending = f.pending[:0]
		if over := len(p) - livePending; over > 0 {
			p, f.offset = p[over:], f.offset+int64(over)
		}
	}
	f.pending = append(f.pending, p...)
	f.mu.Unlock()
}

// take returns what to report now, at most max bytes (the newest; older
// ones are dropped), or false when there is nothing new and the last
// report was recent.
func (f *liveFeed) take(now time.Time, max int) (wire.LiveFeed, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == 0 && now.Sub(f.reported) < liveKeepAlive {
		return wire.LiveFeed{}, false
	}
	if over := len(f.pending) - max; over > 0 {
		f.pending = f.pending[over:]
		f.offset += int64(over)
	}
	out := wire.LiveFeed{Session: f.id, Offset: f.offset, Data: f.pending, LastInput: time.Unix(0, f.lastInput.Load()).UTC()}
	f.offset += int64(len(f.pending))
	f.pending = nil
	f.reported = now
	return out, true
}

// answer tells the user who started and stopped watching, and ends the
// session if a watcher ended it.
func (f *liveFeed) answer(a wire.LiveFeedAnswer) {
	f.mu.Lock()
	var started, stopped []string
	for _, w := range a.Watchers {
		if !slices.Contains(f.watchers, w) {
			started = append(started, w)
		}
	}
	for _, w := range f.watchers {
		if !slices.Contains(a.Watchers, w) {
			stopped = append(stopped, w)
		}
	}
	f.watchers = slices.Clone(a.Watchers)
	f.mu.Unlock()
	if len(started) > 0 {
		fmt.Fprintf(f.notify, "\r\nlockbox: %s %s watching this session live\r\n", strings.Join(started, ", "), isAre(len(started)))
	}
	if len(stopped) > 0 {
		fmt.Fprintf(f.notify, "\r\nlockbox: %s stopped watching this session\r\n", strings.Join(stopped, ", "))
	}
	if a.Stop != "" {
		f.end(endWith(exitEndedByWatcher, "%s", a.Stop))
	}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// liveFeeds holds the running sessions' feeds.
type liveFeeds struct {
	mu    sync.Mutex
	feeds map[string]*liveFeed
}

func (l *liveFeeds) add(f *liveFeed) {
	l.mu.Lock()
	if l.feeds == nil {
		l.feeds = map[string]*liveFeed{}
	}
	l.feeds[f.id] = f
	l.mu.Unlock()
}

func (l *liveFeeds) remove(id string) {
	l.mu.Lock()
	delete(l.feeds, id)
	l.mu.Unlock()
}

// all appends the running sessions' feeds to out.
func (l *liveFeeds) all(out []*liveFeed) []*liveFeed {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.feeds {
		out = append(out, f)
	}
	return out
}

// newLiveFeed starts reporting a session's output, if live view is on;
// nil otherwise. The caller ends it with finishLive.
func (s *Server) newLiveFeed(id string, notify io.Writer, end func(error), lastInput *atomic.Int64) *liveFeed {
	if s.reporter == nil {
		return nil
	}
	f := &liveFeed{id: id, notify: notify, end: end, lastInput: lastInput}
	s.live.add(f)
	return f
}

// finishLive sends what is left of a session's output, once all of it
// was recorded and before its end is, so that watchers see it whole, and
// stops reporting the session.
func (s *Server) finishLive(f *liveFeed) {
	if f == nil {
		return
	}
	s.live.remove(f.id)
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	s.sendLive(ctx, []*liveFeed{f}, true)
}

// liveReports sends a report each LiveInterval while sessions run. A
// report that fails loses its output for watchers (who are told they
// skipped it), never for the recording.
func (s *Server) liveReports(ctx context.Context) {
	t := time.NewTicker(s.cfg.LiveInterval)
	defer t.Stop()
	var feeds []*liveFeed // reused: an idle bastion sends reports and little else
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		feeds = s.reportLive(ctx, feeds)
	}
}

// reportLive reports every running session's feed, gathered into the
// space of feeds, and returns feeds emptied for the next report.
func (s *Server) reportLive(ctx context.Context, feeds []*liveFeed) []*liveFeed {
	feeds = s.live.all(feeds[:0])
	if len(feeds) > 0 {
		s.sendLive(ctx, feeds, false)
	}
	clear(feeds) // hold no ended session's feed until the next report
	return feeds[:0]
}

// sendLive reports feeds, one report at a time (so that the CA receives
// each session's output in order); last: the session's last report, which
// learns nothing more.
func (s *Server) sendLive(ctx context.Context, feeds []*liveFeed, last bool) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	now := s.cfg.Clock()
	// The report and its index are reused from report to report (under
	// liveMu), and emptied after each, so that they hold no output.
	report := wire.LiveReport{Sessions: s.liveSent[:0]}
	byID := s.liveByID
	if byID == nil {
		byID = map[string]*liveFeed{}
		s.liveByID = byID
	}
	defer func() {
		clear(report.Sessions)
		s.liveSent = report.Sessions[:0]
		clear(byID)
	}()
	room := liveReportBytes
	for _, f := range feeds {
		// Each session gets at least its share of the report.
		got, ok := f.take(now, min(liveSessionBytes, max(room, liveReportBytes/len(feeds))))
		if !ok {
			continue
		}
		room = max(0, room-len(got.Data))
		report.Sessions = append(report.Sessions, got)
		byID[got.Session] = f
	}
	if len(report.Sessions) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	answers, err := s.reporter.ReportLive(cctx, report)
	cancel()
	if err != nil {
		// Once a minute at most: a CA without live view, or down, would
		// otherwise fill the log five times a second.
		if now.Sub(s.liveWarned) >= time.Minute {
			s.liveWarned = now
			s.log.Warn("live report failed; watchers skip this output (logged once a minute)", "sessions", len(report.Sessions), "err", err)
		}
		return
	}
	for id, a := range answers {
		if f := byID[id]; f != nil && !last {
			f.answer(a)
		}
	}
}
