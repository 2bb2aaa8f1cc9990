package bastion

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A feed keeps offsets exact while it drops what the CA could not take:
// every byte reported is at its offset in the output, and a gap only ever
// moves forward.
func TestLiveFeedDropsOldOutputButKeepsOffsetsExact(t *testing.T) {
	var last atomic.Int64
	f := &liveFeed{id: "sess-x", notify: io.Discard, end: func(error) {}, lastInput: &last}
	var all bytes.Buffer
	write := func(n int, c byte) {
		p := bytes.Repeat([]byte{c}, n)
		all.Write(p)
		f.output(p)
	}
	check := func(got wire.LiveFeed) {
		t.Helper()
		if want := all.Bytes()[got.Offset : got.Offset+int64(len(got.Data))]; !bytes.Equal(want, got.Data) {
			t.Fatalf("report at %d does not match the output there", got.Offset)
		}
	}
	now := time.Unix(1000, 0)
	write(100, 'a')
	got, ok := f.take(now, liveSessionBytes)
	if !ok || got.Offset != 0 || len(got.Data) != 100 {
		t.Fatalf("first report: %v %d+%d", ok, got.Offset, len(got.Data))
	}
	check(got)
	if _, ok := f.take(now.Add(time.Millisecond), liveSessionBytes); ok {
		t.Fatal("a report with nothing new before the keepalive")
	}
	if got, ok := f.take(now.Add(liveKeepAlive), liveSessionBytes); !ok || len(got.Data) != 0 || got.Offset != 100 {
		t.Fatalf("keepalive: %v %+v", ok, got)
	}
	for i := range 20 { // 640 KiB: more than the buffer holds
		write(32<<10, byte('b'+i))
	}
	got, _ = f.take(now.Add(2*liveKeepAlive), liveSessionBytes)
	if len(got.Data) != liveSessionBytes || got.Offset+int64(len(got.Data)) != int64(all.Len()) {
		t.Fatalf("after a burst: %d bytes ending at %d, want the last %d ending at %d", len(got.Data), got.Offset+int64(len(got.Data)), liveSessionBytes, all.Len())
	}
	check(got)
	write(1, 'z')
	got, _ = f.take(now.Add(3*liveKeepAlive), liveSessionBytes)
	check(got)
}

func TestLiveFeedTellsTheUserWhoWatchesAndEndsOnAStop(t *testing.T) {
	var user strings.Builder
	var ended error
	f := &liveFeed{id: "sess-x", notify: &user, end: func(err error) { ended = err }}
	f.answer(wire.LiveFeedAnswer{Watchers: []string{"carol"}})
	f.answer(wire.LiveFeedAnswer{Watchers: []string{"carol"}})
	f.answer(wire.LiveFeedAnswer{Watchers: []string{"carol", "frank"}})
	f.answer(wire.LiveFeedAnswer{Watchers: []string{"frank"}, Stop: "ended by frank, who was watching: enough"})
	want := "\r\nlockbox: carol is watching this session live\r\n" +
		"\r\nlockbox: frank is watching this session live\r\n" +
		"\r\nlockbox: carol stopped watching this session\r\n"
	if user.String() != want {
		t.Fatalf("the user read %q, want %q", user.String(), want)
	}
	if code, ok := statusOf(ended); !ok || code != exitEndedByWatcher || ended.Error() != "ended by frank, who was watching: enough" {
		t.Fatalf("ended with %v (%d)", ended, code)
	}
}

// copyingReporter keeps a copy of each report (the bastion reuses the
// report's memory) and answers every session with watchers.
type copyingReporter struct {
	reports []wire.LiveReport
	answer  map[string]wire.LiveFeedAnswer
}

func (c *copyingReporter) ReportLive(_ context.Context, r wire.LiveReport) (map[string]wire.LiveFeedAnswer, error) {
	cp := wire.LiveReport{Sessions: slices.Clone(r.Sessions)}
	for i := range cp.Sessions {
		cp.Sessions[i].Data = bytes.Clone(cp.Sessions[i].Data)
	}
	c.reports = append(c.reports, cp)
	return c.answer, nil
}

// Reports reuse their memory from one to the next: each carries only its
// own sessions, the answers reach the right feeds, and nothing is held
// between reports (no session's output, no ended session's feed).
func TestLiveReportsReuseTheirMemoryAndHoldNothing(t *testing.T) {
	now := time.Unix(1000, 0)
	rep := &copyingReporter{answer: map[string]wire.LiveFeedAnswer{"s1": {Watchers: []string{"carol"}}, "s2": {Watchers: []string{"frank"}}}}
	s := &Server{reporter: rep}
	s.cfg.Clock = func() time.Time { return now }
	var users [3]strings.Builder
	var last atomic.Int64
	feeds := make([]*liveFeed, 3)
	for i := range feeds {
		feeds[i] = s.newLiveFeed(fmt.Sprintf("s%d", i+1), &users[i], func(error) {}, &last)
		feeds[i].output([]byte(strings.Repeat("x", i+1)))
	}
	buf := s.reportLive(t.Context(), nil)
	s.live.remove("s3")
	feeds[0].output([]byte("more"))
	now = now.Add(time.Millisecond) // before the keepalive: only s1 has news
	buf = s.reportLive(t.Context(), buf)
	if len(rep.reports) != 2 {
		t.Fatalf("%d reports, want 2", len(rep.reports))
	}
	if got := len(rep.reports[0].Sessions); got != 3 {
		t.Fatalf("first report: %d sessions, want 3", got)
	}
	if second := rep.reports[1].Sessions; len(second) != 1 || second[0].Session != "s1" || string(second[0].Data) != "more" || second[0].Offset != 1 {
		t.Fatalf("second report: %+v, want s1's 4 new bytes at 1", second)
	}
	if users[0].String() != "\r\nlockbox: carol is watching this session live\r\n" || users[1].String() != "\r\nlockbox: frank is watching this session live\r\n" || users[2].Len() != 0 {
		t.Fatalf("the users read %q, %q, %q", users[0].String(), users[1].String(), users[2].String())
	}
	if len(buf) != 0 || slices.ContainsFunc(buf[:cap(buf)], func(f *liveFeed) bool { return f != nil }) {
		t.Fatal("the feeds' space holds feeds between reports")
	}
	for _, f := range s.liveSent[:cap(s.liveSent)] {
		if f.Session != "" || f.Data != nil {
			t.Fatalf("the report's space holds %q between reports", f.Session)
		}
	}
	if len(s.liveByID) != 0 {
		t.Fatalf("the report's index holds %d feeds between reports", len(s.liveByID))
	}
}
