package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// liveSession starts a session of alice's on customer-db, whose grant
// grace (a Contoso administrator, no auditor) approved.
func (e *env) liveSession() string {
	e.t.Helper()
	r := e.submit("alice", "health", []string{"customer-db"}, time.Hour, "")
	e.approve("grace", r.ID)
	g, err := e.startSession("alice", r.ID, "customer-db")
	if err != nil {
		e.t.Fatal(err)
	}
	return g.Session.ID
}

func (e *env) report(id string, off int64, data string) map[string]workflow.LiveAnswer {
	e.t.Helper()
	a, err := e.svc.ReportLive(ctx, bastion, []workflow.LiveReport{{SessionID: id, Offset: off, Data: []byte(data), LastInput: e.clock.Now()}})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func TestLiveOutputReachesAWatcherOnAnotherReplicaInOrder(t *testing.T) {
	e := newEnv(t, nil)
	id := e.liveSession()
	other := e.service(e.st) // a second replica on the same database
	e.report(id, 0, "hello ")
	w, err := other.StartWatch(ctx, user("carol"), id, "cli")
	if err != nil {
		t.Fatal(err)
	}
	e.report(id, 6, "world\r\n")
	e.report(id, 6, "world\r\n") // sent again: stored once
	var got bytes.Buffer
	read, err := other.ReadLive(ctx, user("carol"), id, w.ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	got.Write(read.Data)
	if got.String() != "hello world\r\n" || read.Next != 13 || read.Skipped != 0 {
		t.Fatalf("read %+v", read)
	}
	if diff := cmp.Diff([]string{"carol"}, read.Watchers); diff != "" {
		t.Fatalf("watchers (-want +got):\n%s", diff)
	}
	a := e.report(id, 13, "")
	if diff := cmp.Diff(workflow.LiveAnswer{Watchers: []string{"carol"}}, a[id]); diff != "" {
		t.Fatalf("the bastion's answer (-want +got):\n%s", diff)
	}
	if err := other.StopWatch(ctx, user("carol"), id, w.ID); err != nil {
		t.Fatal(err)
	}
	if a := e.report(id, 13, ""); len(a[id].Watchers) != 0 {
		t.Fatalf("after the watch stopped the bastion hears of %v", a[id].Watchers)
	}
	if diff := cmp.Diff([]string{"session.started", "session.watch_started", "session.watch_ended"}, e.actions(id)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestOnlyAuditorsAndApproversListAndWatch(t *testing.T) {
	e := newEnv(t, nil)
	id := e.liveSession()
	e.report(id, 0, "secret output")
	for _, who := range []string{"carol", "grace"} { // auditor, approver
		list, err := e.svc.LiveSessions(ctx, user(who))
		if err != nil || len(list) != 1 || list[0].Session.ID != id {
			t.Fatalf("%s lists %v, %v", who, list, err)
		}
		if _, err := e.svc.StartWatch(ctx, user(who), id, "web"); err != nil {
			t.Fatalf("%s may not watch: %v", who, err)
		}
	}
	carolWatch, _ := e.svc.StartWatch(ctx, user("carol"), id, "cli")
	for _, who := range []string{"bob", "alice"} { // another engineer; the watched user herself
		if _, err := e.svc.LiveSessions(ctx, user(who)); !errors.Is(err, workflow.ErrForbidden) {
			t.Errorf("%s listing: %v, want ErrForbidden", who, err)
		}
		if _, err := e.svc.StartWatch(ctx, user(who), id, "cli"); !errors.Is(err, workflow.ErrNoSession) {
			t.Errorf("%s watching: %v, want ErrNoSession", who, err)
		}
		if _, err := e.svc.ReadLive(ctx, user(who), id, carolWatch.ID, 0); !errors.Is(err, workflow.ErrNoSession) {
			t.Errorf("%s reading carol's watch: %v, want ErrNoSession", who, err)
		}
		if err := e.svc.EndWatched(ctx, user(who), id, "because"); !errors.Is(err, workflow.ErrNoSession) {
			t.Errorf("%s ending: %v, want ErrNoSession", who, err)
		}
		if err := e.svc.StopWatch(ctx, user(who), id, carolWatch.ID); !errors.Is(err, workflow.ErrNoSession) {
			t.Errorf("%s stopping carol's watch: %v, want ErrNoSession", who, err)
		}
	}
	if _, err := e.svc.ReadLive(ctx, user("grace"), id, carolWatch.ID, 0); !errors.Is(err, workflow.ErrWatchEnded) {
		t.Errorf("grace reading carol's watch: %v, want ErrWatchEnded", err)
	}
	refused := 0
	for _, a := range e.actions(id) {
		if a == "session.watch_refused" {
			refused++
		}
	}
	if refused != 8 {
		t.Errorf("%d refusals audited on the session, want 8: %v", refused, e.actions(id))
	}
}

func TestSlowWatcherSkipsAheadAndIsTold(t *testing.T) {
	e := newEnv(t, nil)
	e.svc = e.serviceWith(e.st, func(c *workflow.Config) { c.Live.Buffer = 100 })
	id := e.liveSession()
	w, err := e.svc.StartWatch(ctx, user("carol"), id, "cli")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		e.report(id, int64(i*50), strings.Repeat(string(rune('a'+i)), 50))
	}
	read, err := e.svc.ReadLive(ctx, user("carol"), id, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if read.Skipped != 400 || read.Offset != 400 || string(read.Data) != strings.Repeat("i", 50)+strings.Repeat("j", 50) {
		t.Fatalf("a watcher 500 bytes behind a 100-byte buffer read %+v", read)
	}
	// The bastion dropped 30 bytes it could not send in time.
	e.report(id, 530, "tail")
	read, err = e.svc.ReadLive(ctx, user("carol"), id, w.ID, read.Next)
	if err != nil {
		t.Fatal(err)
	}
	if read.Skipped != 30 || string(read.Data) != "tail" || read.Next != 534 {
		t.Fatalf("after a gap: %+v", read)
	}
}

func TestWatcherEndsTheSessionThroughTheBastionsNextReport(t *testing.T) {
	e := newEnv(t, nil)
	id := e.liveSession()
	e.report(id, 0, "rm -rf")
	requireErr(t, e.svc.EndWatched(ctx, user("grace"), id, "  "), workflow.ErrBadInput)
	if err := e.svc.EndWatched(ctx, user("grace"), id, "not what the ticket says"); err != nil {
		t.Fatal(err)
	}
	a := e.report(id, 6, "")
	if want := "ended by grace, who was watching: not what the ticket says"; a[id].Stop != want {
		t.Fatalf("stop %q, want %q", a[id].Stop, want)
	}
	if err := e.svc.EndSession(ctx, bastion, id, a[id].Stop); err != nil {
		t.Fatal(err)
	}
	if a := e.report(id, 6, ""); len(a) != 0 {
		t.Fatalf("an ended session still answered: %v", a)
	}
	requireErr(t, e.svc.EndWatched(ctx, user("grace"), id, "again"), workflow.ErrNotRunning)
	if diff := cmp.Diff([]string{"session.started", "session.end_requested", "session.ended", "session.watch_refused"}, e.actions(id)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestAbandonedWatchEndsAuditedAndSilentRolesAnnounceNobody(t *testing.T) {
	e := newEnv(t, nil)
	id := e.liveSession()
	if _, err := e.svc.StartWatch(ctx, user("carol"), id, "web"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(workflow.DefaultWatchTimeout)
	if a := e.report(id, 0, ""); len(a[id].Watchers) != 0 {
		t.Fatalf("an abandoned watch is still announced: %v", a[id].Watchers)
	}
	if diff := cmp.Diff([]string{"session.started", "session.watch_started", "session.watch_ended"}, e.actions(id)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
	p := examplePolicy(t)
	p.Roles["health"].SilentWatch = true
	e.holder.Set(p)
	if _, err := e.svc.StartWatch(ctx, user("carol"), id, "web"); err != nil {
		t.Fatal(err)
	}
	if a := e.report(id, 0, ""); len(a[id].Watchers) != 0 {
		t.Fatalf("a silent role's watcher is announced: %v", a[id].Watchers)
	}
}

func TestWatcherOfBulkOutputReadsOnlyTheLatest(t *testing.T) {
	e := newEnv(t, nil)
	id := e.liveSession()
	w, err := e.svc.StartWatch(ctx, user("carol"), id, "cli")
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 200 << 10
	for i := range 3 {
		e.report(id, int64(i*chunk), strings.Repeat(string(rune('a'+i)), chunk))
	}
	read, err := e.svc.ReadLive(ctx, user("carol"), id, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if read.Skipped != 3*chunk-workflow.MaxLiveRead || len(read.Data) != workflow.MaxLiveRead || read.Next != 3*chunk {
		t.Fatalf("a watcher 600 KiB behind: skipped %d, read %d bytes, next %d", read.Skipped, len(read.Data), read.Next)
	}
	if !strings.HasSuffix(string(read.Data), strings.Repeat("c", chunk)) {
		t.Fatal("the latest output is not what was read")
	}
}

// chunkReads is a store that counts the reads of live chunks' data.
type chunkReads struct {
	store.Store
	n atomic.Int64
}

type chunkReadsTx struct {
	store.Tx
	n *atomic.Int64
}

func (c *chunkReads) View(ctx context.Context, fn func(store.Tx) error) error {
	return c.Store.View(ctx, func(tx store.Tx) error { return fn(chunkReadsTx{tx, &c.n}) })
}

func (t chunkReadsTx) LiveChunks(id string, after int64, limit int) ([]store.LiveChunk, error) {
	t.n.Add(1)
	return t.Tx.LiveChunks(id, after, limit)
}

// A replica keeps what a bastion reports to it for its watchers, and
// watchers of another replica woken together read the chunks' data from
// the store once between them; all read the same output.
func TestWatchersReadReportedOutputFromTheStoreOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.liveSession()
	counted := &chunkReads{Store: e.st}
	here, other := e.service(counted), e.service(counted)
	var watches []string
	for _, who := range []string{"carol", "erin", "frank", "carol", "erin", "frank", "carol", "erin", "frank", "carol"} {
		w, err := other.StartWatch(ctx, user(who), id, "cli")
		if err != nil {
			t.Fatal(err)
		}
		watches = append(watches, w.ID)
	}
	data := strings.Repeat("0123456789abcdef", 4096)
	if _, err := here.ReportLive(ctx, bastion, []workflow.LiveReport{{SessionID: id, Offset: 0, Data: []byte(data)}}); err != nil {
		t.Fatal(err)
	}
	w, err := here.StartWatch(ctx, user("carol"), id, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := here.ReadLive(ctx, user("carol"), id, w.ID, -1); err != nil || string(got.Data) != data {
		t.Fatalf("a watcher on the replica reported to read %d bytes, %v", len(got.Data), err)
	}
	if n := counted.n.Load(); n != 0 {
		t.Fatalf("a watcher of the replica the bastion reported to read the output from the store %d times", n)
	}
	var wg sync.WaitGroup
	for i, who := range []string{"carol", "erin", "frank", "carol", "erin", "frank", "carol", "erin", "frank", "carol"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := other.ReadLive(ctx, user(who), id, watches[i], 0); err != nil || string(got.Data) != data {
				t.Errorf("%s read %d bytes, %v", who, len(got.Data), err)
			}
		}()
	}
	wg.Wait()
	if n := counted.n.Load(); n != 1 {
		t.Fatalf("ten watchers on the other replica read the output from the store %d times, want once", n)
	}
}

// A watch reads only the session it watches.
func TestWatchOfOneSessionDoesNotReadAnother(t *testing.T) {
	e := newEnv(t, nil)
	a := e.liveSession()
	r := e.submit("bob", "health", []string{"customer-db"}, time.Hour, "")
	e.approve("grace", r.ID)
	g, err := e.startSession("bob", r.ID, "customer-db")
	if err != nil {
		t.Fatal(err)
	}
	b := g.Session.ID
	e.report(b, 0, "secret")
	w, err := e.svc.StartWatch(ctx, user("carol"), a, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.svc.ReadLive(ctx, user("carol"), b, w.ID, -1); !errors.Is(err, workflow.ErrWatchEnded) {
		t.Fatalf("carol's watch of %s read %s: %+v, %v; want ErrWatchEnded", a, b, out, err)
	}
}
