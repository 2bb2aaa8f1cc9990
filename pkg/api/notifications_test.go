package api_test

import (
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The outbox through the API: auditors see the counts and the queued or
// dead messages (without their bodies); others are refused.
func TestNotificationsListTheOutboxForAuditors(t *testing.T) {
	s := newServer(t)
	s.cfg.Notifications = s.wf
	s.url = s.replica(t)
	at := time.Now().UTC().Truncate(time.Second)
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"request.pending-aa", "request.pending-bb"} {
			if err := tx.EnqueueOutbox(&store.OutboxMessage{Key: k, Endpoint: "ops", Kind: "request.pending", Subject: "req-1",
				Body: []byte(`{"Request":{"Justification":"secret-ish"}}`), CreatedAt: at}); err != nil {
				return err
			}
		}
		rows, err := tx.ClaimOutbox("ca-1", at, at.Add(time.Minute), 1)
		if err != nil {
			return err
		}
		rows[0].State, rows[0].Attempts, rows[0].LastError, rows[0].DoneAt = store.OutboxDead, 10, "notify: refused by the receiver", at
		return tx.FinishOutbox("ca-1", rows[0])
	}); err != nil {
		t.Fatal(err)
	}
	carol := s.client(t, "user:carol")
	q, err := carol.Notifications(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if q.Queued != 1 || q.Dead != 1 || len(q.Messages) != 1 || q.Messages[0].State != "queued" || q.Messages[0].DueAt == nil {
		t.Fatalf("queued: %+v", q)
	}
	d, err := carol.Notifications(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 1 || d.Messages[0].Attempts != 10 || d.Messages[0].LastError == "" || d.Messages[0].DoneAt == nil || d.Messages[0].Endpoint != "ops" {
		t.Fatalf("dead: %+v", d)
	}
	_, err = s.client(t, "user:alice").Notifications(ctx, false)
	wantCode(t, err, 403, "forbidden")
}
