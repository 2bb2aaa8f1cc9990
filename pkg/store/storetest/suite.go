// Package storetest is the one test suite every store engine must pass,
// and helpers for tests that need a real database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Opener opens the engine under test on a fresh, empty database. Reopen
// opens the same database again (after Close), to check durability.
type Opener struct {
	Open   func(t *testing.T) store.Store
	Reopen func(t *testing.T) store.Store
}

// Run runs the suite.
func Run(t *testing.T, o Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RequestRoundTrip", testRequestRoundTrip},
		{"MissingRequestIsNotFound", testMissingRequest},
		{"DuplicateRequestIDRefused", testDuplicateRequest},
		{"ConditionalUpdateRefusesChangedState", testConditionalUpdate},
		{"RacingDecidersMakeOneTransition", testRacingDeciders},
		{"FiltersSelectRequests", testFilters},
		{"CountOpenCountsLivePendingAndActive", testCountOpen},
		{"ApproverCountsOnce", testApproverOnce},
		{"CertificatesRoundTripWithHighSerials", testCertificates},
		{"RevokedSerialsListOnlyRevokedLiveCerts", testRevokedSerials},
		{"AuditAppendsFollowTheHead", testAuditHead},
		{"NonceIsUsableOnce", testNonces},
		{"MFAStepAdvancesOnlyForward", testMFA},
		{"FailedUpdateUndoesOnlyItsOwnChanges", testBatchIsolation},
		{"ViewCannotWrite", testViewReadOnly},
		{"ManyConcurrentReadersAndWritersFinish", testConcurrentReaders},
		{"SessionsRoundTripAndFilter", testSessions},
		{"LeaseIsOnePerUserAndReclaimedAfterExpiry", testLeases},
		{"RacingSessionsTakeTheLeaseOnce", testLeaseRace},
		{"ThrottlesRoundTrip", testThrottles},
		{"WebPasswordsRoundTripAndReplace", testPasswords},
		{"WebSessionsTouchExpireAndDelete", testWebSessions},
		{"SSOPendingTakenOnceAndPruned", testSSOPending},
		{"AnswersAreKeptOncePerKeyUntilTheyExpire", testAnswers},
		{"AdmissionReadsDirectoryAndKeptAnswerAtOnce", testAdmission},
		{"WindowStartAndEscalationRoundTrip", testWindowFieldsRoundTrip},
		{"ApprovalDurationRoundTrips", testApprovalDurationRoundTrips},
		{"EscalateBeforeSelectsDueEscalations", testEscalateBeforeSelectsDueEscalations},
		{"DirectoryUsersAreUniqueByNameInAnyCase", testDirectoryUsers},
		{"DirectoryGroupsKeepTheirMembers", testDirectoryGroups},
		{"DirectoryMembershipsAreReplacedPerUserAndSource", testDirectoryMemberships},
		{"NoticeIsGivenOnce", testNoticeIsGivenOnce},
		{"UsageSaysWhenLastRequestedAndUsed", testUsageSaysWhenLastRequestedAndUsed},
		{"ReviewDecisionReplacesThePreviousOne", testReviewDecisionReplacesThePreviousOne},
		{"OutboxRowsAreOnePerKeyAndEndpoint", testOutboxRowsAreOnePerKeyAndEndpoint},
		{"OutboxLeaseIsExclusiveUntilItRunsOut", testOutboxLeaseIsExclusiveUntilItRunsOut},
		{"OutboxRacingClaimsTakeEachRowOnce", testOutboxRacingClaimsTakeEachRowOnce},
		{"OutboxListsCountsAndPrunes", testOutboxListsCountsAndPrunes},
		{"LiveChunksAreReadFromAnOffsetAndPruned", testLiveChunksAreReadFromAnOffsetAndPruned},
		{"LiveStatesAndWatchesGoWithTheirSession", testLiveStatesAndWatchesGoWithTheirSession},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := o.Open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
	t.Run("CommittedUpdatesSurviveReopen", func(t *testing.T) {
		s := o.Open(t)
		mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(newRequest("req-durable", "alice")) })
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = o.Reopen(t)
		defer s.Close()
		mustView(t, s, func(tx store.Tx) error {
			_, err := tx.Request("req-durable")
			return err
		})
	})
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newRequest(id, user string) *store.Request {
	return &store.Request{
		ID: id, User: user, Role: "reader", Resources: []string{"db-1", "db-2"},
		Duration: 2 * time.Hour, Reason: "disk full on db-1", Ticket: "OPS-1",
		State: store.Pending, CreatedAt: t0, PendingUntil: t0.Add(24 * time.Hour),
	}
}

func mustUpdate(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func mustView(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func getRequest(t *testing.T, s store.Store, id string) *store.Request {
	t.Helper()
	var r *store.Request
	mustView(t, s, func(tx store.Tx) (err error) { r, err = tx.Request(id); return err })
	return r
}

func testRequestRoundTrip(t *testing.T, s store.Store) {
	want := newRequest("req-1", "alice")
	want.DecidedAt, want.DecidedBy, want.Decision = t0.Add(time.Minute), "carol", "ok <b>\x1b[31m"
	want.NotBefore, want.NotAfter = t0.Add(time.Minute), t0.Add(time.Minute+2*time.Hour)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(want) })
	if diff := cmp.Diff(want, getRequest(t, s, "req-1")); diff != "" {
		t.Fatalf("request changed in the store (-want +got):\n%s", diff)
	}
}

func testMissingRequest(t *testing.T, s store.Store) {
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.Request("nope"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func testDuplicateRequest(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(newRequest("req-1", "alice")) })
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.CreateRequest(newRequest("req-1", "bob")) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("got %v, want ErrDuplicate", err)
	}
	if got := getRequest(t, s, "req-1").User; got != "alice" {
		t.Fatalf("duplicate overwrote the request: user %s", got)
	}
}

func testConditionalUpdate(t *testing.T, s store.Store) {
	r := newRequest("req-1", "alice")
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(r) })
	r.State = store.Denied
	mustUpdate(t, s, func(tx store.Tx) error { return tx.UpdateRequest(r, store.Pending) })
	r.State = store.Approved
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.UpdateRequest(r, store.Pending) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want ErrConflict", err)
	}
	if got := getRequest(t, s, "req-1").State; got != store.Denied {
		t.Fatalf("state %s, want denied", got)
	}
}

// Deciders lock the request, check it is pending, and move it on: however
// many race, exactly one wins.
func testRacingDeciders(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(newRequest("req-1", "alice")) })
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx store.Tx) error {
				r, err := tx.LockRequest("req-1")
				if err != nil {
					return err
				}
				if r.State != store.Pending {
					return store.ErrConflict
				}
				r.State, r.DecidedBy = store.Approved, fmt.Sprint("approver-", i)
				return tx.UpdateRequest(r, store.Pending)
			})
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("decider %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d deciders won, want exactly 1", wins.Load())
	}
}

func testFilters(t *testing.T, s store.Store) {
	mk := func(id, user string, st store.State, pendingUntil, notAfter time.Time) *store.Request {
		r := newRequest(id, user)
		r.State, r.PendingUntil, r.NotAfter = st, pendingUntil, notAfter
		return r
	}
	rs := []*store.Request{
		mk("a-pending-due", "alice", store.Pending, t0, time.Time{}),
		mk("a-pending-later", "alice", store.Pending, t0.Add(time.Hour), time.Time{}),
		mk("b-approved-ended", "bob", store.Approved, t0, t0),
		mk("b-approved-live", "bob", store.Approved, t0, t0.Add(time.Hour)),
		mk("b-denied", "bob", store.Denied, t0, time.Time{}),
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, r := range rs {
			if err := tx.CreateRequest(r); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(f store.RequestFilter) []string {
		var out []string
		mustView(t, s, func(tx store.Tx) error {
			got, err := tx.Requests(f)
			for _, r := range got {
				out = append(out, r.ID)
			}
			return err
		})
		return out
	}
	cases := []struct {
		name string
		f    store.RequestFilter
		want []string
	}{
		{"by user", store.RequestFilter{User: "alice"}, []string{"a-pending-due", "a-pending-later"}},
		{"by states", store.RequestFilter{States: []store.State{store.Approved, store.Denied}}, []string{"b-approved-ended", "b-approved-live", "b-denied"}},
		{"pending due", store.RequestFilter{PendingBefore: t0}, []string{"a-pending-due"}},
		{"grants ended", store.RequestFilter{EndedBefore: t0}, []string{"b-approved-ended"}},
		{"limit", store.RequestFilter{User: "bob", Limit: 1}, []string{"b-approved-ended"}},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, ids(c.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func testCountOpen(t *testing.T, s store.Store) {
	now := t0.Add(time.Hour)
	mustUpdate(t, s, func(tx store.Tx) error {
		for i, st := range []store.State{store.Pending, store.Pending, store.Approved, store.Approved, store.Denied} {
			r := newRequest(fmt.Sprint("r", i), "alice")
			r.State = st
			r.PendingUntil = now.Add(time.Minute)
			r.NotAfter = now.Add(time.Minute)
			if i == 1 {
				r.PendingUntil = now // due: no longer counts
			}
			if i == 3 {
				r.NotAfter = now // ended: no longer counts
			}
			if err := tx.CreateRequest(r); err != nil {
				return err
			}
		}
		return tx.CreateRequest(newRequest("other", "bob"))
	})
	mustView(t, s, func(tx store.Tx) error {
		p, a, err := tx.CountOpen("alice", now)
		if p != 1 || a != 1 {
			t.Errorf("pending %d active %d, want 1 and 1", p, a)
		}
		return err
	})
}

func testApproverOnce(t *testing.T, s store.Store) {
	a := store.Approval{RequestID: "req-1", Approver: "carol", Reason: "ok", At: t0}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.AddApproval(a) })
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.AddApproval(a) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("got %v, want ErrDuplicate", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.AddApproval(store.Approval{RequestID: "req-1", Approver: "frank", At: t0.Add(time.Second)})
	})
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Approvals("req-1")
		want := []store.Approval{a, {RequestID: "req-1", Approver: "frank", At: t0.Add(time.Second)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("approvals (-want +got):\n%s", diff)
		}
		return err
	})
}

func cert(serial uint64, kind store.CertKind, req string, validBefore time.Time) *store.Certificate {
	return &store.Certificate{
		Serial: serial, Kind: kind, RequestID: req, User: "alice", KeyID: "alice/" + req,
		Principals: []string{"reader@db-1"}, Fingerprint: "SHA256:abc",
		ValidAfter: t0.Add(-time.Minute), ValidBefore: validBefore, IssuedAt: t0,
	}
}

func testCertificates(t *testing.T, s store.Store) {
	want := []*store.Certificate{cert(1<<63+5, store.UserCert, "req-1", t0.Add(time.Hour)), cert(7, store.HopCert, "req-1", t0.Add(time.Hour))}
	want[1].Bastion = "bastion-1"
	want[1].IssuedAt = t0.Add(time.Second)
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, c := range want {
			if err := tx.AddCertificate(c); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.AddCertificate(cert(7, store.UserCert, "req-2", t0)) })
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("reused serial: got %v, want ErrDuplicate", err)
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Certificates("req-1")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("certificates (-want +got):\n%s", diff)
		}
		return err
	})
}

func testRevokedSerials(t *testing.T, s store.Store) {
	now := t0.Add(time.Minute)
	mustUpdate(t, s, func(tx store.Tx) error {
		revoked, live := newRequest("revoked", "alice"), newRequest("live", "alice")
		revoked.State, live.State = store.Revoked, store.Approved
		for _, r := range []*store.Request{revoked, live} {
			if err := tx.CreateRequest(r); err != nil {
				return err
			}
		}
		for _, c := range []*store.Certificate{
			cert(10, store.UserCert, "revoked", now.Add(time.Hour)),
			cert(11, store.HopCert, "revoked", now.Add(time.Hour)),
			cert(12, store.UserCert, "revoked", now), // already expired: no need to list
			cert(13, store.UserCert, "live", now.Add(time.Hour)),
		} {
			if err := tx.AddCertificate(c); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, s, func(tx store.Tx) error {
		user, err := tx.RevokedSerials(store.UserCert, now)
		if err != nil {
			return err
		}
		hop, err := tx.RevokedSerials(store.HopCert, now)
		if diff := cmp.Diff([][]uint64{{10}, {11}}, [][]uint64{user, hop}); diff != "" {
			t.Errorf("revoked serials (-want +got):\n%s", diff)
		}
		return err
	})
}

func testAuditHead(t *testing.T, s store.Store) {
	rec := func(seq int64, prev []byte) store.AuditRecord {
		return store.AuditRecord{Seq: seq, Time: t0, Actor: "user:alice", Action: "x", Subject: "req-1",
			Detail: []byte(`{"a":1}`), PrevHash: prev, Hash: []byte{byte(seq), 1, 2}}
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		seq, hash, err := tx.AuditHead()
		if err != nil || seq != 0 || hash != nil {
			return fmt.Errorf("empty head: %d %x %v", seq, hash, err)
		}
		if err := tx.AppendAudit(rec(1, []byte{0})); err != nil {
			return err
		}
		return tx.AppendAudit(rec(2, []byte{1, 1, 2}))
	})
	err := s.Update(context.Background(), func(tx store.Tx) error { return tx.AppendAudit(rec(2, []byte{9})) })
	if !errors.Is(err, store.ErrDuplicate) && !errors.Is(err, store.ErrConflict) {
		t.Fatalf("an append that does not follow the head: got %v", err)
	}
	err = s.Update(context.Background(), func(tx store.Tx) error { return tx.AppendAudit(rec(5, []byte{9})) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("an append past the head: got %v, want ErrConflict", err)
	}
	mustView(t, s, func(tx store.Tx) error {
		seq, hash, err := tx.AuditHead()
		if seq != 2 || string(hash) != string([]byte{2, 1, 2}) {
			t.Errorf("head %d %x, want 2 020102", seq, hash)
		}
		if err != nil {
			return err
		}
		got, err := tx.Audit(1, 10)
		if diff := cmp.Diff([]store.AuditRecord{rec(2, []byte{1, 1, 2})}, got); diff != "" {
			t.Errorf("audit after 1 (-want +got):\n%s", diff)
		}
		return err
	})
}

func testNonces(t *testing.T, s store.Store) {
	use := func(p, n string, exp time.Time) error {
		return s.Update(context.Background(), func(tx store.Tx) error { return tx.UseNonce(p, n, exp) })
	}
	if err := use("user:alice", "n1", t0); err != nil {
		t.Fatal(err)
	}
	if err := use("user:alice", "n1", t0); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("replayed nonce: got %v, want ErrDuplicate", err)
	}
	if err := use("user:bob", "n1", t0); err != nil {
		t.Fatalf("same nonce, other principal: %v", err)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PruneNonces(t0.Add(time.Second)) })
	if err := use("user:alice", "n1", t0.Add(time.Hour)); err != nil {
		t.Fatalf("a pruned nonce: %v", err)
	}
}

func testMFA(t *testing.T, s store.Store) {
	m := &store.MFA{User: "alice", Secret: []byte{1, 2, 3}, LastStep: 0, EnrolledAt: t0}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutMFA(m) })
	mustUpdate(t, s, func(tx store.Tx) error { return tx.AdvanceMFAStep("alice", 100) })
	for _, step := range []int64{100, 99} {
		err := s.Update(context.Background(), func(tx store.Tx) error { return tx.AdvanceMFAStep("alice", step) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("step %d after 100: got %v, want ErrConflict", step, err)
		}
	}
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.MFA("alice")
		m.LastStep = 100
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("mfa (-want +got):\n%s", diff)
		}
		return err
	})
	err := s.View(context.Background(), func(tx store.Tx) error { _, err := tx.MFA("bob"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unenrolled: got %v", err)
	}
}

// Many concurrent updates share transactions; the ones that fail after
// writing must leave nothing behind, and the others must all commit.
func testBatchIsolation(t *testing.T, s store.Store) {
	const n = 200
	errFail := errors.New("planned failure")
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx store.Tx) error {
				if err := tx.CreateRequest(newRequest(fmt.Sprint("req-", i), "alice")); err != nil {
					return err
				}
				if i%2 == 1 {
					return errFail
				}
				return nil
			})
			if (i%2 == 1) != errors.Is(err, errFail) || (i%2 == 0 && err != nil) {
				t.Errorf("update %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	mustView(t, s, func(tx store.Tx) error {
		got, err := tx.Requests(store.RequestFilter{User: "alice"})
		if len(got) != n/2 {
			t.Errorf("%d requests stored, want %d", len(got), n/2)
		}
		for _, r := range got {
			var i int
			fmt.Sscanf(r.ID, "req-%d", &i)
			if i%2 == 1 {
				t.Errorf("failed update %s left its request behind", r.ID)
			}
		}
		return err
	})
}

func testViewReadOnly(t *testing.T, s store.Store) {
	err := s.View(context.Background(), func(tx store.Tx) error { return tx.CreateRequest(newRequest("req-1", "alice")) })
	if err == nil {
		t.Fatal("a View wrote")
	}
	err = s.View(context.Background(), func(tx store.Tx) error { _, err := tx.Request("req-1"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the write in a View was kept: %v", err)
	}
}

// More concurrent Views than the read pool has connections, beside
// Updates, must all finish (a statement prepared lazily inside a View once
// deadlocked exactly this way).
func testConcurrentReaders(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error { return tx.CreateRequest(newRequest("req-1", "alice")) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := s.View(ctx, func(tx store.Tx) error {
				if _, err := tx.Request("req-1"); err != nil {
					return err
				}
				if _, _, err := tx.AuditHead(); err != nil {
					return err
				}
				_, err := tx.Approvals("req-1")
				return err
			})
			if err != nil {
				t.Errorf("view %d: %v", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			err := s.Update(ctx, func(tx store.Tx) error { return tx.UseNonce("user:alice", fmt.Sprint("n", i), t0) })
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
}
