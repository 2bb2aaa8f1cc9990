package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/mariadbtest"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// viaProxy opens a store on a private mariadbd through a proxy that can
// break a connection at its COMMIT.
func viaProxy(t *testing.T) (*sqlstore.DB, *mariadbtest.Server, *mariadbtest.Proxy) {
	t.Helper()
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	if _, err := srv.CreateDatabase("lockbox"); err != nil {
		t.Fatal(err)
	}
	proxy := srv.StartProxy(t)
	db, err := sqlstore.OpenMySQL(proxy.DSN("lockbox"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := createRequest(context.Background(), db, "req-warm"); err != nil {
		t.Fatal(err)
	}
	return db, srv, proxy
}

func within(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// The server commits but its answer never arrives: the store reads its
// commit mark back and answers success. Running the change again would
// answer "already exists" for a change that was made.
func TestMySQLCommitWhoseAnswerIsLostIsReadBackNotRunAgain(t *testing.T) {
	db, _, proxy := viaProxy(t)
	proxy.BreakNextCommit(mariadbtest.Fault{Commit: mariadbtest.LoseAnswer})
	ctx, cancel := within(5 * time.Second)
	defer cancel()
	if err := createRequest(ctx, db, "req-lost-answer"); err != nil {
		t.Fatalf("the change was committed; got %v", err)
	}
	if proxy.Armed() {
		t.Fatal("no COMMIT went through the proxy")
	}
	if !requestExists(t, db, "req-lost-answer") {
		t.Fatal("the change is not stored")
	}
}

// The COMMIT never reaches the server: the mark shows it did not commit,
// so the change runs again and is stored once.
func TestMySQLCommitThatNeverArrivedRunsAgainOnce(t *testing.T) {
	db, _, proxy := viaProxy(t)
	proxy.BreakNextCommit(mariadbtest.Fault{Commit: mariadbtest.LoseCommit})
	ctx, cancel := within(5 * time.Second)
	defer cancel()
	if err := createRequest(ctx, db, "req-lost-commit"); err != nil {
		t.Fatalf("the change could be made again; got %v", err)
	}
	if proxy.Armed() {
		t.Fatal("no COMMIT went through the proxy")
	}
	if !requestExists(t, db, "req-lost-commit") {
		t.Fatal("the change is not stored")
	}
}

// The server dies having committed, before its answer leaves: the store
// learns the outcome from the mark once the server is back, within the
// caller's deadline.
func TestMySQLServerKilledAtTheCommitIsReadBackOnceItReturns(t *testing.T) {
	db, srv, proxy := viaProxy(t)
	restarted := make(chan error, 1)
	proxy.BreakNextCommit(mariadbtest.Fault{Commit: mariadbtest.LoseAnswer, Then: func() {
		if err := srv.Kill(); err != nil {
			restarted <- err
			return
		}
		go func() { restarted <- srv.Restart() }()
	}})
	ctx, cancel := within(30 * time.Second)
	defer cancel()
	err := createRequest(ctx, db, "req-killed")
	if rerr := <-restarted; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("the change was committed before the server died; got %v", err)
	}
	if !requestExists(t, db, "req-killed") {
		t.Fatal("the change is not stored")
	}
}

// The server dies having committed and is not back by the caller's
// deadline: the answer is "outcome unknown", never "nothing was changed".
func TestMySQLServerKilledAtTheCommitAndStillDownIsOutcomeUnknown(t *testing.T) {
	db, srv, proxy := viaProxy(t)
	killed := make(chan error, 1)
	proxy.BreakNextCommit(mariadbtest.Fault{Commit: mariadbtest.LoseAnswer, Then: func() { killed <- srv.Kill() }})
	ctx, cancel := within(time.Second)
	defer cancel()
	err := createRequest(ctx, db, "req-unknown")
	if kerr := <-killed; kerr != nil {
		t.Fatal(kerr)
	}
	if !errors.Is(err, store.ErrOutcomeUnknown) {
		t.Errorf("got %v, want ErrOutcomeUnknown", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if !requestExists(t, db, "req-unknown") {
		t.Fatal("the change is not stored (the server had committed it)")
	}
}

// Under load, the server is killed at a commit again and again, before
// and after it commits, and restarted. Every answer must match the rows:
// success means stored, "unavailable" means not stored, "unknown" may be
// either, and nothing else may come back.
func TestMySQLAnswersMatchTheRowsWhenTheServerIsKilledAtCommits(t *testing.T) {
	db, srv, proxy := viaProxy(t)
	const cycles, workers = 6, 4
	type answer struct {
		id  string
		err error
	}
	var (
		mu        sync.Mutex
		answers   []answer
		succeeded int
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("req-load-%d-%d", w, i)
				ctx, cancel := within(3 * time.Second)
				err := createRequest(ctx, db, id)
				cancel()
				mu.Lock()
				answers = append(answers, answer{id, err})
				if err == nil {
					succeeded++
				}
				mu.Unlock()
				if err != nil {
					select { // as a client would, before trying again
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
		}()
	}
	// successes waits until n more calls have succeeded since it was called.
	successes := func(n int) {
		mu.Lock()
		want := succeeded + n
		mu.Unlock()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := succeeded
			mu.Unlock()
			if got >= want {
				return
			}
			time.Sleep(10 * time.Millisecond) // polling a counter, with a deadline
		}
		t.Fatalf("fewer than %d calls succeeded in 30s", n)
	}
	for c := range cycles {
		successes(20)
		fired := make(chan error, 1)
		where := mariadbtest.LoseCommit
		if c%2 == 1 {
			where = mariadbtest.LoseAnswer
		}
		proxy.BreakNextCommit(mariadbtest.Fault{Commit: where, Then: func() { fired <- srv.Kill() }})
		select {
		case err := <-fired:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("cycle %d: no COMMIT in 30s", c)
		}
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	successes(20)
	close(stop)
	wg.Wait()

	var ok, unavailable, unknown int
	for _, a := range answers {
		stored := requestExists(t, db, a.id)
		switch {
		case a.err == nil:
			ok++
			if !stored {
				t.Errorf("%s: answered success, not stored", a.id)
			}
		case errors.Is(a.err, store.ErrOutcomeUnknown):
			unknown++
		case errors.Is(a.err, store.ErrUnavailable):
			unavailable++
			if stored {
				t.Errorf("%s: answered %q (nothing changed), but stored", a.id, a.err)
			}
		default:
			t.Errorf("%s: unexpected answer %v (stored: %v)", a.id, a.err, stored)
		}
	}
	t.Logf("%d calls over %d kills at a commit: %d succeeded, %d unavailable, %d outcome unknown",
		len(answers), cycles, ok, unavailable, unknown)
}
