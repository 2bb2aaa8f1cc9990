package workflow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// BenchmarkWaitingFor measures the pending count the web form computes on
// every page, with 200 pending requests on SQLite: for carol, who may
// approve them all (one approvals query each), and for frank, who may
// approve none (no query beyond the list). BenchmarkPendingList is the
// pending list itself, for comparison.
func BenchmarkWaitingFor(b *testing.B) {
	svc := pendingWorld(b, 200)
	for _, who := range []string{"carol", "frank"} {
		b.Run(who, func(b *testing.B) {
			for b.Loop() {
				n, err := svc.WaitingFor(ctx, user(who))
				if err != nil || (who == "carol" && n != 200) {
					b.Fatalf("%d, %v", n, err)
				}
			}
		})
	}
}

func BenchmarkPendingList(b *testing.B) {
	svc := pendingWorld(b, 200)
	for b.Loop() {
		if l, err := svc.List(ctx, user("carol"), workflow.ListFilter{Pending: true}); err != nil || len(l) != 200 {
			b.Fatalf("%d, %v", len(l), err)
		}
	}
}

// pendingWorld has alice make n pending reader requests.
func pendingWorld(b *testing.B, n int) *workflow.Service {
	st := sqliteStore(b)
	p := examplePolicy(b)
	p.Settings.MaxPendingRequestsPerUser = n
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	svc, err := workflow.New(workflow.Config{Store: st, Policy: policy.NewHolder(p), UserCA: newSigner(b), HopCA: newSigner(b),
		Secrets: box, Clock: c.Now, PendingTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := svc.Submit(ctx, user("alice"), workflow.Submission{Role: "reader", Resources: []string{"db-1"},
			Duration: time.Hour, Reason: fmt.Sprint("disk ", i)}); err != nil {
			b.Fatal(err)
		}
	}
	var pending []*store.Request
	if err := st.View(ctx, func(tx store.Tx) (err error) {
		pending, err = tx.Requests(store.RequestFilter{States: []store.State{store.Pending}})
		return err
	}); err != nil || len(pending) != n {
		b.Fatalf("%d pending, %v", len(pending), err)
	}
	return svc
}
