package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// liveServer has alice's health session on customer-db open (grace
// approved its grant) and reporting output.
func liveServer(t testing.TB) (*server, string) {
	s := newServerWith(t, func(c *api.Config) { c.Live = nil })
	s.cfg.Live = s.wf
	s.url = s.replica(t)
	req, err := s.client(t, "user:alice").Submit(ctx, wire.SubmitRequest{Role: "health", Resources: []string{"customer-db"}, Duration: "1h", Reason: "disk"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client(t, "user:grace").Approve(ctx, req.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	b := s.client(t, "bastion:bastion-1")
	g, err := b.StartSession(ctx, wire.SessionStart{RequestID: req.ID, Resource: "customer-db", User: "alice", ClientAddr: "192.0.2.1:1", Command: "uptime"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReportLive(ctx, wire.LiveReport{Sessions: []wire.LiveFeed{{Session: g.SessionID, Data: []byte(" 10:00 up 3 days\n")}}}); err != nil {
		t.Fatal(err)
	}
	return s, g.SessionID
}

func TestLiveViewThroughTheAPI(t *testing.T) {
	s, id := liveServer(t)
	grace := s.client(t, "user:grace")
	list, err := grace.LiveSessions(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].User != "alice" || list[0].Resource != "customer-db" {
		t.Fatalf("grace's live list: %+v, %v", list, err)
	}
	w, err := grace.StartWatch(ctx, id, "cli")
	if err != nil {
		t.Fatal(err)
	}
	out, err := grace.ReadLive(ctx, id, w.ID, -1, time.Second)
	if err != nil || string(out.Data) != " 10:00 up 3 days\n" || out.Next != 17 {
		t.Fatalf("read: %+v, %v", out, err)
	}
	// A read that waits gets output reported while it waits.
	b := s.client(t, "bastion:bastion-1")
	done := make(chan *wire.LiveOutput, 1)
	go func() {
		out, err := grace.ReadLive(ctx, id, w.ID, out.Next, 2*time.Second)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	answers, err := b.ReportLive(ctx, wire.LiveReport{Sessions: []wire.LiveFeed{{Session: id, Offset: 17, Data: []byte("more")}}})
	if err != nil || len(answers[id].Watchers) != 1 || answers[id].Watchers[0] != "grace" {
		t.Fatalf("the bastion's answer: %+v, %v", answers, err)
	}
	if got := <-done; got == nil || string(got.Data) != "more" {
		t.Fatalf("waiting read: %+v", got)
	}
	if err := grace.EndWatched(ctx, id, "wrong host"); err != nil {
		t.Fatal(err)
	}
	answers, err = b.ReportLive(ctx, wire.LiveReport{Sessions: []wire.LiveFeed{{Session: id, Offset: 21}}})
	if err != nil || answers[id].Stop != "ended by grace, who was watching: wrong host" {
		t.Fatalf("the bastion's answer after the end: %+v, %v", answers, err)
	}
	if err := grace.StopWatch(ctx, id, w.ID); err != nil {
		t.Fatal(err)
	}
	_, err = grace.ReadLive(ctx, id, w.ID, 0, 0)
	wantCode(t, err, http.StatusGone, "watch_ended")
}

// An engineer who is neither auditor nor approver is refused on every live
// endpoint, and so is a person on the bastions' one.
func TestEngineerIsRefusedOnEveryLiveEndpoint(t *testing.T) {
	s, id := liveServer(t)
	w, err := s.client(t, "user:erin").StartWatch(ctx, id, "web")
	if err != nil {
		t.Fatal(err)
	}
	bob := s.client(t, "user:bob")
	_, err = bob.LiveSessions(ctx)
	wantCode(t, err, http.StatusForbidden, "forbidden")
	_, err = bob.StartWatch(ctx, id, "cli")
	wantCode(t, err, http.StatusNotFound, "no_session")
	_, err = bob.ReadLive(ctx, id, w.ID, 0, 0)
	wantCode(t, err, http.StatusNotFound, "no_session")
	wantCode(t, bob.StopWatch(ctx, id, w.ID), http.StatusNotFound, "no_session")
	wantCode(t, bob.EndWatched(ctx, id, "curious"), http.StatusNotFound, "no_session")
	_, err = bob.ReportLive(ctx, wire.LiveReport{Sessions: []wire.LiveFeed{{Session: id, Offset: 0, Data: []byte("forged")}}})
	wantCode(t, err, http.StatusForbidden, "not_a_bastion")
	recs, err := s.wf.AuditLog(ctx, "user:erin", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, r := range recs {
		if r.Actor == "user:bob" && r.Action == "session.watch_refused" {
			refused++
		}
	}
	if refused != 5 {
		t.Fatalf("%d of bob's refusals audited, want 5", refused)
	}
}
