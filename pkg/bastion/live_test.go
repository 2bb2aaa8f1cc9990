package bastion

import (
	"bytes"
	"io"
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
