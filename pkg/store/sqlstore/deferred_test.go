package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// inOneBatch runs fns as concurrent Updates that the writer takes as one
// batch (it is held busy until all of them wait in its queue), and
// returns their errors and the transaction each ran in. db must have one
// writer.
func inOneBatch(t *testing.T, db *DB, fns []func(store.Tx) error) ([]error, []store.Tx) {
	t.Helper()
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	busy := make(chan error, 1)
	go func() {
		busy <- db.Update(ctx, func(store.Tx) error { close(started); <-release; return nil })
	}()
	<-started
	errs, txs := make([]error, len(fns)), make([]store.Tx, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(ctx, func(tx store.Tx) error { txs[i] = tx; return fn(tx) })
		}()
	}
	for len(db.ops) < len(fns) {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	return errs, txs
}

func openEngines(t *testing.T) map[string]func(t *testing.T) *DB {
	return map[string]func(t *testing.T) *DB{
		"sqlite": func(t *testing.T) *DB {
			db, err := OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"mysql": func(t *testing.T) *DB {
			// One writer, which inOneBatch can hold busy.
			db, err := openMySQL(storetest.MySQLDSN(t), Options{}, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
}

// appendAudit extends the chain by one record, hashed "h-" + subject.
func appendAudit(tx store.Tx, subject string) error {
	seq, hash, err := tx.AuditHead()
	if err != nil {
		return err
	}
	if hash == nil {
		hash = []byte("genesis")
	}
	return tx.AppendAudit(store.AuditRecord{Seq: seq + 1, Time: time.UnixMicro(1e15).UTC(), Actor: "user:alice", Action: "x",
		Subject: subject, Detail: []byte(`{}`), PrevHash: hash, Hash: []byte("h-" + subject)})
}

// Updates that share a transaction keep the meaning each would have
// alone: a replayed nonce (stored before, or used by another Update of
// the batch) is refused to the Update that replays it and to no other,
// a failed Update leaves no nonce, certificate or audit record behind,
// an Update reads back what it and earlier ones appended, and the audit
// chain runs on without a gap through what was kept.
func TestUpdatesSharingATransactionKeepTheirOwnOutcomes(t *testing.T) {
	for name, open := range openEngines(t) {
		for _, replay := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stored-nonce-replayed=%v", name, replay), func(t *testing.T) {
				sharedUpdatesScenario(t, open(t), replay)
			})
		}
	}
}

// sharedUpdatesScenario: see TestUpdatesSharingATransactionKeepTheirOwnOutcomes.
// With replay, one Update replays a nonce stored before the batch, which
// fails the batch's final write: every Update then runs again alone.
func sharedUpdatesScenario(t *testing.T, db *DB, replay bool) {
	errFail := errors.New("planned failure")
	ctx := context.Background()
	if err := db.Update(ctx, func(tx store.Tx) error {
		if err := tx.UseNonce("user:alice", "stored", time.UnixMicro(2e15)); err != nil {
			return err
		}
		return appendAudit(tx, "before")
	}); err != nil {
		t.Fatal(err)
	}
	const n = 24
	// want: nil, or the error Update i must return.
	want := make([]error, n)
	fns := make([]func(store.Tx) error, n)
	for i := range fns {
		nonce := fmt.Sprint("n", i)
		switch {
		case i%8 == 1 && replay:
			nonce, want[i] = "stored", store.ErrDuplicate
		case i%8 == 3:
			nonce, want[i] = fmt.Sprint("n", i-1), store.ErrDuplicate // Update i-1's: one of the two is refused
		case i%8 == 5:
			want[i] = errFail
		}
		fns[i] = func(tx store.Tx) error {
			if err := tx.UseNonce("user:alice", nonce, time.UnixMicro(2e15)); err != nil {
				return err
			}
			c := &store.Certificate{Serial: uint64(1000 + i), Kind: store.UserCert, RequestID: "req-1", User: "alice",
				KeyID: "alice/req-1", Principals: []string{"reader@db-1"}, Fingerprint: "SHA256:x"}
			if err := tx.AddCertificate(c); err != nil {
				return err
			}
			if err := appendAudit(tx, fmt.Sprint("op-", i)); err != nil {
				return err
			}
			if i%4 == 2 { // reads its own certificate and earlier ones' back
				got, err := tx.Certificates("req-1")
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(got, func(c *store.Certificate) bool { return c.Serial == uint64(1000+i) }) {
					return fmt.Errorf("update %d does not read its own certificate back (%d read)", i, len(got))
				}
			}
			if want[i] == errFail {
				return errFail
			}
			return nil
		}
	}
	errs, txs := inOneBatch(t, db, fns)
	var kept []int
	for i, err := range errs {
		if i%8 == 2 || i%8 == 3 { // the pair that shares a nonce
			if j := i ^ 1; errors.Is(err, store.ErrDuplicate) == errors.Is(errs[j], store.ErrDuplicate) ||
				err != nil && !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("updates %d and %d sharing a nonce: got %v and %v, want one refused", i, j, err, errs[j])
			}
		} else if want[i] == nil && err != nil || want[i] != nil && !errors.Is(err, want[i]) {
			t.Errorf("update %d: got %v, want %v", i, err, want[i])
		}
		if err == nil {
			kept = append(kept, i)
		}
	}
	if !replay && slices.ContainsFunc(txs, func(tx store.Tx) bool { return tx != txs[0] }) {
		t.Errorf("the queued updates ran in more than one transaction")
	}
	err := db.View(ctx, func(tx store.Tx) error {
		certs, err := tx.Certificates("req-1")
		if err != nil {
			return err
		}
		var serials []int
		for _, c := range certs {
			serials = append(serials, int(c.Serial)-1000)
		}
		slices.Sort(serials)
		if !slices.Equal(serials, kept) {
			t.Errorf("certificates of updates %v stored, want %v", serials, kept)
		}
		log, err := tx.Audit(0, 1000)
		if err != nil {
			return err
		}
		prev := []byte("genesis")
		var subjects []string
		for j, r := range log {
			if r.Seq != int64(j+1) || !bytes.Equal(r.PrevHash, prev) {
				t.Errorf("audit row %d: seq %d, prev %q after %q", j, r.Seq, r.PrevHash, prev)
			}
			prev = r.Hash
			subjects = append(subjects, r.Subject)
		}
		slices.Sort(subjects) // "before" sorts first
		wantSubjects := []string{"before"}
		for _, i := range kept {
			wantSubjects = append(wantSubjects, fmt.Sprint("op-", i))
		}
		slices.Sort(wantSubjects)
		if !slices.Equal(subjects, wantSubjects) {
			t.Errorf("audit subjects %v, want %v", subjects, wantSubjects)
		}
		seq, hash, err := tx.AuditHead()
		if seq != int64(len(log)) || !bytes.Equal(hash, prev) {
			t.Errorf("head %d %q, want %d %q", seq, hash, len(log), prev)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nonces: those of kept Updates are spent, those of failed ones
	// are not.
	for i := range n {
		if want[i] == store.ErrDuplicate {
			continue
		}
		err := db.Update(ctx, func(tx store.Tx) error {
			return tx.UseNonce("user:alice", fmt.Sprint("n", i), time.UnixMicro(2e15))
		})
		if spent := errors.Is(err, store.ErrDuplicate); spent != (want[i] == nil) {
			t.Errorf("nonce of update %d: spent %v (%v), want %v", i, spent, err, want[i] == nil)
		}
	}
}

// Updates of one batch that lock the same request each read it as the
// Updates before them left it: changed by a kept one, unchanged by one
// that failed.
func TestUpdatesSharingATransactionReadTheRequestAsLeft(t *testing.T) {
	errFail := errors.New("planned failure")
	for name, open := range openEngines(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			r := &store.Request{ID: "req-1", User: "alice", Role: "reader", Resources: []string{"db-1"}, Reason: "0",
				State: store.Pending, CreatedAt: time.UnixMicro(1e15).UTC()}
			if err := db.Update(ctx, func(tx store.Tx) error { return tx.CreateRequest(r) }); err != nil {
				t.Fatal(err)
			}
			const n = 16
			seen := make([]int, n)
			fns := make([]func(store.Tx) error, n)
			for i := range fns {
				fns[i] = func(tx store.Tx) error {
					cur, err := tx.LockRequest("req-1")
					if err != nil {
						return err
					}
					fmt.Sscan(cur.Reason, &seen[i])
					cur.Reason = fmt.Sprint(seen[i] + 1)
					if err := tx.UpdateRequest(cur, store.Pending); err != nil {
						return err
					}
					if again, err := tx.LockRequest("req-1"); err != nil || again.Reason != cur.Reason {
						return fmt.Errorf("read back %v after writing %q: %v", again, cur.Reason, err)
					}
					if i%3 == 1 {
						return errFail
					}
					return nil
				}
			}
			errs, _ := inOneBatch(t, db, fns)
			var got []int
			for i, err := range errs {
				if (i%3 == 1) != errors.Is(err, errFail) || i%3 != 1 && err != nil {
					t.Errorf("update %d: %v", i, err)
				}
				if err == nil {
					got = append(got, seen[i])
				}
			}
			slices.Sort(got)
			for k, v := range got {
				if v != k {
					t.Fatalf("kept updates read %v, want 0 to %d once each", got, len(got)-1)
				}
			}
			if err := db.View(ctx, func(tx store.Tx) error {
				cur, err := tx.Request("req-1")
				if err == nil && cur.Reason != fmt.Sprint(len(got)) {
					t.Errorf("reason %q after %d kept updates", cur.Reason, len(got))
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A batch's held rows of one table are written in one INSERT of exactly
// their number up to exactRowsPerInsert, and beyond it in few INSERTs,
// each of a size prepared at open.
func TestHeldRowsAreWrittenInFewPreparedInserts(t *testing.T) {
	prepared := map[string]bool{}
	for _, q := range appendQueries() {
		prepared[q] = true
	}
	for n := 1; n <= 3*maxRowsPerInsert; n++ {
		statements := 0
		for left := n; left > 0; statements++ {
			c := chunk(left)
			if c < 1 || c > left || c > maxRowsPerInsert {
				t.Fatalf("%d rows: a chunk of %d of the %d left", n, c, left)
			}
			if !prepared[certTable.insert(c)] {
				t.Fatalf("%d rows: the INSERT of %d rows is not prepared at open", n, c)
			}
			left -= c
		}
		if n <= exactRowsPerInsert && statements != 1 {
			t.Errorf("%d rows written in %d INSERTs; want 1", n, statements)
		}
		if limit := (n+maxRowsPerInsert-1)/maxRowsPerInsert + 3; statements > limit {
			t.Errorf("%d rows written in %d INSERTs; want at most %d", n, statements, limit)
		}
	}
	if got, want := strings.Count(certTable.insert(5), "("), 5+1; got != want {
		t.Errorf("the INSERT of 5 rows has %d groups of parentheses: %s", got, certTable.insert(5))
	}
}
