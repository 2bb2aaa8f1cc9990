package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Live view.

func testLiveChunksAreReadFromAnOffsetAndPruned(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, c := range []store.LiveChunk{
			{SessionID: "s1", Offset: 0, Data: []byte("hello "), At: t0},
			{SessionID: "s1", Offset: 6, Data: []byte("world\r\n"), At: t0.Add(time.Second)},
			{SessionID: "s1", Offset: 13, Data: []byte{0, 0xff, 0x1b}, At: t0.Add(2 * time.Second)},
			{SessionID: "s2", Offset: 0, Data: []byte("other"), At: t0},
		} {
			if err := tx.AddLiveChunk(c); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.AddLiveChunk(store.LiveChunk{SessionID: "s1", Offset: 6, Data: []byte("again"), At: t0})
	})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a chunk at a stored offset: %v, want ErrDuplicate", err)
	}
	read := func(after int64, limit int) []store.LiveChunk {
		var got []store.LiveChunk
		mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.LiveChunks("s1", after, limit); return err })
		return got
	}
	want := []store.LiveChunk{
		{SessionID: "s1", Offset: 6, Data: []byte("world\r\n"), At: t0.Add(time.Second)},
		{SessionID: "s1", Offset: 13, Data: []byte{0, 0xff, 0x1b}, At: t0.Add(2 * time.Second)},
	}
	// A reader at offset 8 is inside the second chunk: it gets that chunk
	// whole (and cuts what it has already).
	if diff := cmp.Diff(want, read(8, 10)); diff != "" {
		t.Fatalf("chunks after offset 8 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:1], read(6, 1)); diff != "" {
		t.Fatalf("one chunk after offset 6 (-want +got):\n%s", diff)
	}
	var spans []store.LiveSpan
	mustView(t, s, func(tx store.Tx) (err error) { spans, err = tx.LiveSpans("s1", 8, 10); return err })
	if diff := cmp.Diff([]store.LiveSpan{{Offset: 6, Length: 7}, {Offset: 13, Length: 3}}, spans); diff != "" {
		t.Fatalf("spans after offset 8 (-want +got):\n%s", diff)
	}
	if got := read(16, 10); len(got) != 0 {
		t.Fatalf("chunks after the end: %v, want none", got)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneLiveChunks("s1", 13) })
	if diff := cmp.Diff(want[1:], read(0, 10)); diff != "" {
		t.Fatalf("after pruning up to 13 (-want +got):\n%s", diff)
	}
	var other []store.LiveChunk
	mustView(t, s, func(tx store.Tx) (err error) { other, err = tx.LiveChunks("s2", 0, 10); return err })
	if len(other) != 1 {
		t.Fatalf("pruning s1 touched s2: %v", other)
	}
}

func testLiveStatesAndWatchesGoWithTheirSession(t *testing.T, s store.Store) {
	fresh := &store.LiveState{SessionID: "s1", End: 100, LastInput: t0, Updated: t0.Add(time.Minute)}
	stale := &store.LiveState{SessionID: "s2", End: 5, Updated: t0, StopBy: "carol", StopReason: "enough", StopAt: t0}
	watches := []*store.LiveWatch{
		{ID: "w1", SessionID: "s1", Watcher: "carol", Via: "web", Started: t0, Seen: t0},
		{ID: "w2", SessionID: "s2", Watcher: "frank", Via: "cli", Started: t0.Add(time.Second), Seen: t0},
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, st := range []*store.LiveState{fresh, stale} {
			if err := tx.PutLiveState(st); err != nil {
				return err
			}
		}
		for _, w := range watches {
			if err := tx.AddLiveWatch(w); err != nil {
				return err
			}
		}
		return tx.AddLiveChunk(store.LiveChunk{SessionID: "s2", Offset: 0, Data: []byte("x"), At: t0})
	})
	fresh.End = 120
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutLiveState(fresh) })
	var got *store.LiveState
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.LiveState("s1"); return err })
	if diff := cmp.Diff(fresh, got); diff != "" {
		t.Fatalf("replaced state (-want +got):\n%s", diff)
	}
	var all []*store.LiveState
	mustView(t, s, func(tx store.Tx) (err error) { all, err = tx.LiveStates(); return err })
	if diff := cmp.Diff([]*store.LiveState{fresh, stale}, all); diff != "" {
		t.Fatalf("states (-want +got):\n%s", diff)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.TouchLiveWatch("w1", t0.Add(time.Hour)) })
	watches[0].Seen = t0.Add(time.Hour)
	var ws []*store.LiveWatch
	mustView(t, s, func(tx store.Tx) (err error) { ws, err = tx.LiveWatches(""); return err })
	if diff := cmp.Diff(watches, ws); diff != "" {
		t.Fatalf("watches (-want +got):\n%s", diff)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteStaleLive(t0.Add(time.Second)) })
	mustView(t, s, func(tx store.Tx) error {
		if _, err := tx.LiveState("s2"); !errors.Is(err, store.ErrNotFound) {
			return errors.New("the stale session's state is still there")
		}
		if c, err := tx.LiveChunks("s2", 0, 10); err != nil || len(c) != 0 {
			return errors.New("the stale session's output is still there")
		}
		if _, err := tx.LiveWatch("w2"); !errors.Is(err, store.ErrNotFound) {
			return errors.New("the stale session's watch is still there")
		}
		if _, err := tx.LiveState("s1"); err != nil {
			return err
		}
		w, err := tx.LiveWatches("s1")
		if err != nil || len(w) != 1 {
			return errors.New("the fresh session lost its watch")
		}
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteLiveWatch("w1") })
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.TouchLiveWatch("w1", t0) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touching a deleted watch: %v, want ErrNotFound", err)
	}
}
