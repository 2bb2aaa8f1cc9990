package workflow_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// BenchmarkLiveStore measures the CA's live view work on SQLite: one
// bastion report for 10 sessions with 4 KiB of new output each (and how
// many rows and bytes per session the bounded buffer then holds), one
// watcher read, and the one-row poll of a waiting read.
func BenchmarkLiveStore(b *testing.B) {
	st, err := sqlstore.OpenSQLite(filepath.Join(b.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	box, _ := secretbox.New(make([]byte, 32))
	cas := newCAs(b)
	svc, err := workflow.New(workflow.Config{Store: st, Policy: policy.NewHolder(examplePolicy(b)), UserCA: cas.user, HopCA: cas.hop,
		HostCA: cas.host, Secrets: box})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("sess-%016d", i)
		if err := st.Update(ctx, func(tx store.Tx) error {
			return tx.CreateSession(&store.Session{ID: id, User: "alice", RequestID: "req-x", Resource: "db-1", Role: "health",
				Bastion: "bastion-1", StartedAt: time.Now()})
		}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 256)
	b.Run("report=10x4KiB", func(b *testing.B) {
		off := int64(0)
		for b.Loop() {
			reports := make([]workflow.LiveReport, len(ids))
			for i, id := range ids {
				reports[i] = workflow.LiveReport{SessionID: id, Offset: off, Data: data}
			}
			if _, err := svc.ReportLive(ctx, bastion, reports); err != nil {
				b.Fatal(err)
			}
			off += int64(len(data))
		}
		var rows, size int64
		if err := st.View(ctx, func(tx store.Tx) error {
			for _, id := range ids {
				c, err := tx.LiveChunks(id, -1, 100000)
				if err != nil {
					return err
				}
				rows += int64(len(c))
				for _, x := range c {
					size += int64(len(x.Data))
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rows)/float64(len(ids)), "rows/session")
		b.ReportMetric(float64(size)/float64(len(ids))/(1<<10), "KiB/session")
	})
	w, err := svc.StartWatch(ctx, user("carol"), ids[0], "cli")
	if err != nil {
		b.Fatal(err)
	}
	end, err := svc.LiveEnd(ctx, ids[0])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("read=256KiB", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.ReadLive(ctx, user("carol"), ids[0], w.ID, -1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read=4KiB", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.ReadLive(ctx, user("carol"), ids[0], w.ID, end-int64(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("poll", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.LiveEnd(ctx, ids[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
