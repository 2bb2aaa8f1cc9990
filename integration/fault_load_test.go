package integration

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/mariadbtest"
	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The fault run: state-changing calls at a steady rate against a CA whose
// private mariadbd is restarted, killed (at a commit, and at any moment)
// and frozen, with every answer counted against the rows afterwards.
// scripts/fault.sh runs it longer and prints the figures.

// outcome is what one answer said.
type outcome int

const (
	succeeded   outcome = iota // 2xx
	refused                    // a definite 4xx
	unavailable                // 503 unavailable: nothing was changed
	unknown                    // 503 outcome_unknown, or 409 idempotency_key_in_use
	noAnswer                   // the connection failed
	failed                     // anything else (a 500): a bug
)

func classify(status int, body []byte, err error) outcome {
	switch {
	case err != nil:
		return noAnswer
	case status < 300:
		return succeeded
	}
	var e wire.Error
	json.Unmarshal(body, &e) //nolint:errcheck // an undecodable body is a failure below
	switch {
	case status == http.StatusServiceUnavailable && e.Error.Code == "unavailable":
		return unavailable
	case status == http.StatusServiceUnavailable && e.Error.Code == "outcome_unknown",
		status == http.StatusConflict && e.Error.Code == "idempotency_key_in_use":
		return unknown
	case status >= 400 && status < 500:
		return refused
	}
	return failed
}

// faultCall is one state-changing call and what became of it.
type faultCall struct {
	kind      string // "submit" or "revoke"
	key       string
	tag       string // submit: the reason, unique per call
	id        string // the request: revoke's target, submit's once known
	first     outcome
	firstTook time.Duration
	final     outcome // after sending it again under its key
	replayed  bool    // the final answer was a kept earlier answer
	// onlyUnavailable: every attempt before the final one answered
	// "nothing was changed", so a kept answer can only be theirs.
	onlyUnavailable bool
	detail          string // the last non-success answer, for failures
}

// loadRig drives keyed calls at a CA as a few users.
type loadRig struct {
	c       *ca
	signers map[string]*apiauth.Signer
	http    *http.Client

	mu    sync.Mutex
	calls []*faultCall
}

func newLoadRig(t *testing.T, c *ca, users ...string) *loadRig {
	r := &loadRig{c: c, signers: map[string]*apiauth.Signer{}, http: &http.Client{Timeout: 30 * time.Second}}
	for _, u := range users {
		key, err := apiauth.LoadKeyFile(filepath.Join(c.keys, u))
		if err != nil {
			t.Fatal(err)
		}
		r.signers[u] = &apiauth.Signer{Principal: "user:" + u, Key: key}
	}
	return r
}

// send makes one signed, keyed attempt.
func (r *loadRig) send(user, key, path string, body any) (int, []byte, bool, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, r.c.url+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(apiauth.IdempotencyKeyHeader, key)
	req.GetBody = nil // no resending by net/http: every attempt is signed afresh
	if err := r.signers[user].Sign(req, b); err != nil {
		return 0, nil, false, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, nil, false, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header.Get(api.ReplayedHeader) == "true", err
}

// call sends a call, then, while its outcome is open, sends it again
// under the same key, as the CLI does, until the answer is definite.
func (r *loadRig) call(fc *faultCall, user, path string, body any, out any) {
	began := time.Now()
	status, data, replayed, err := r.send(user, fc.key, path, body)
	fc.firstTook = time.Since(began)
	fc.first = classify(status, data, err)
	fc.final = fc.first
	fc.onlyUnavailable = true
	deadline := time.Now().Add(90 * time.Second)
	for (fc.final == unavailable || fc.final == unknown || fc.final == noAnswer) && time.Now().Before(deadline) {
		fc.onlyUnavailable = fc.onlyUnavailable && fc.final == unavailable
		time.Sleep(200 * time.Millisecond) // a client's pause before it tries again
		status, data, replayed, err = r.send(user, fc.key, path, body)
		fc.final = classify(status, data, err)
	}
	fc.replayed = replayed
	if fc.final == succeeded && out != nil {
		json.Unmarshal(data, out) //nolint:errcheck // checked against the rows
	}
	if fc.final != succeeded {
		fc.detail = fmt.Sprintf("%d %s %v", status, bytes.TrimSpace(data), err)
	}
	r.mu.Lock()
	r.calls = append(r.calls, fc)
	r.mu.Unlock()
}

// work submits grants and revokes them, one call per token.
func (r *loadRig) work(user string, worker int, tokens <-chan struct{}) {
	for i := 0; ; i++ {
		if _, ok := <-tokens; !ok {
			return
		}
		sub := &faultCall{kind: "submit", key: client.NewIdempotencyKey(), tag: fmt.Sprintf("fault-%s-%d-%d", user, worker, i)}
		var got wire.Request
		r.call(sub, user, "/v1/requests", wire.SubmitRequest{Role: "health", Resources: []string{"db-1"}, Duration: "1h", Reason: sub.tag}, &got)
		sub.id = got.ID
		if sub.final != succeeded || got.ID == "" {
			continue
		}
		if _, ok := <-tokens; !ok {
			return
		}
		rev := &faultCall{kind: "revoke", key: client.NewIdempotencyKey(), id: got.ID}
		r.call(rev, user, "/v1/requests/"+got.ID+"/revoke", wire.Decision{Reason: "done"}, nil)
	}
}

// faultReport is what the run found.
type faultReport struct {
	calls, succeeded, refused, failed        int
	unavailableFirst, unknownFirst, noAnswer int
	unknownCommitted, unknownNotCommitted    int
	unknownConflict                          int
	falseNothingChanged, missing, duplicated int
	unresolved                               int
	longest                                  time.Duration
	seconds                                  float64
	examples                                 []string
}

func (f faultReport) String() string {
	return fmt.Sprintf(`calls:                             %d (%.0f per second over %.0fs)
successes:                         %d
clean refusals:                    %d
"nothing was changed" (503):       %d, of which had changed something: %d (must be 0)
outcome unknown, reported as such: %d (sent again with the key: %d answered from the kept answer, %d ran then; %d refused, must be 0)
no answer at all:                  %d
rows missing:                      %d (must be 0)
rows made twice:                   %d (must be 0)
still open after 90s of retrying:  %d
internal errors:                   %d
longest time to a first answer:    %v`,
		f.calls, float64(f.calls)/f.seconds, f.seconds, f.succeeded, f.refused, f.unavailableFirst, f.falseNothingChanged,
		f.unknownFirst, f.unknownCommitted, f.unknownNotCommitted, f.unknownConflict, f.noAnswer, f.missing, f.duplicated, f.unresolved,
		f.failed, f.longest.Round(time.Millisecond))
}

// check counts every answer against the rows in db.
func (r *loadRig) check(t *testing.T, db *sql.DB, seconds float64) faultReport {
	rows, err := db.Query(`SELECT id, state, reason FROM requests`)
	if err != nil {
		t.Fatal(err)
	}
	state, byTag := map[string]string{}, map[string]int{}
	for rows.Next() {
		var id, st, reason string
		if err := rows.Scan(&id, &st, &reason); err != nil {
			t.Fatal(err)
		}
		state[id] = st
		byTag[reason]++
	}
	rows.Close()
	rep := faultReport{calls: len(r.calls), seconds: seconds}
	for _, fc := range r.calls {
		rep.longest = max(rep.longest, fc.firstTook)
		switch fc.first {
		case succeeded:
			rep.succeeded++
		case refused:
			rep.refused++
		case unavailable:
			rep.unavailableFirst++
			// Sent again under its key, a call that had in fact been
			// committed is answered from the kept answer (or, were keys
			// ignored, refused: a second revocation is a conflict).
			if fc.onlyUnavailable && ((fc.final == succeeded && fc.replayed) || fc.final == refused) {
				rep.falseNothingChanged++
				rep.examples = append(rep.examples, fmt.Sprintf("%s %s: answered unavailable, yet had been committed (%s)", fc.kind, fc.key, fc.detail))
			}
		case unknown:
			rep.unknownFirst++
			switch {
			case fc.final == succeeded && fc.replayed:
				rep.unknownCommitted++
			case fc.final == succeeded:
				rep.unknownNotCommitted++
			case fc.final == refused:
				rep.unknownConflict++
				rep.examples = append(rep.examples, fmt.Sprintf("%s %s: sent again with its key, refused (%s)", fc.kind, fc.key, fc.detail))
			}
		case noAnswer:
			rep.noAnswer++
		case failed:
			rep.failed++
			rep.examples = append(rep.examples, fmt.Sprintf("%s %s: %s", fc.kind, fc.key, fc.detail))
		}
		if fc.final == unavailable || fc.final == unknown || fc.final == noAnswer {
			rep.unresolved++
			rep.examples = append(rep.examples, fmt.Sprintf("%s %s still open: %s", fc.kind, fc.key, fc.detail))
		}
		if fc.final == failed && fc.first != failed {
			rep.failed++
			rep.examples = append(rep.examples, fmt.Sprintf("%s %s: %s", fc.kind, fc.key, fc.detail))
		}
		if fc.kind == "submit" && byTag[fc.tag] > 1 {
			rep.duplicated++
			rep.examples = append(rep.examples, fmt.Sprintf("submit %s made %d requests", fc.key, byTag[fc.tag]))
		}
		if fc.final != succeeded {
			continue
		}
		want := "approved"
		if fc.kind == "revoke" {
			want = "revoked"
		}
		if st, ok := state[fc.id]; !ok || (fc.kind == "revoke" && st != want) {
			rep.missing++
			rep.examples = append(rep.examples, fmt.Sprintf("%s %s of %s succeeded, but the row is %q", fc.kind, fc.key, fc.id, st))
		}
	}
	return rep
}

// faultSetting reads a positive integer from the environment.
func faultSetting(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// Calls at about 100 per second, while the CA's database is restarted,
// killed at commits (before and after the server commits), killed at any
// moment, and frozen past the store deadline: every success is in the
// rows, no "nothing was changed" hides a change, nothing is made twice,
// every unknown outcome is learnt by sending the call again with its key,
// and no first answer takes much longer than the store deadline.
// LOCKBOX_FAULT_ROUNDS (default 1) repeats the faults; LOCKBOX_FAULT_RATE
// (default 100) sets the calls per second.
func TestFaultsUnderLoadAnswersMatchTheRows(t *testing.T) {
	const storeTimeout = 2 * time.Second
	rounds, rate := faultSetting("LOCKBOX_FAULT_ROUNDS", 1), faultSetting("LOCKBOX_FAULT_RATE", 100)
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	if _, err := srv.CreateDatabase("lockbox"); err != nil {
		t.Fatal(err)
	}
	proxy := srv.StartProxy(t)
	c := newCAOn(t, "mysql", proxy.DSN("lockbox"))
	c.writePolicy(func(name string, data []byte) []byte {
		if name != "settings.yaml" {
			return data
		}
		data = regexp.MustCompile(`max_active_grants_per_user: \d+`).ReplaceAll(data, []byte("max_active_grants_per_user: 100000"))
		return regexp.MustCompile(`max_pending_requests_per_user: \d+`).ReplaceAll(data, []byte("max_pending_requests_per_user: 100000"))
	})
	c.start("--store_timeout", storeTimeout.String())
	rig := newLoadRig(t, c, "alice", "bob")

	tokens := make(chan struct{})
	var workers sync.WaitGroup
	for w := range 256 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rig.work([]string{"alice", "bob"}[w%2], w, tokens)
		}()
	}
	stopTokens := make(chan struct{})
	tokensDone := make(chan struct{})
	go func() {
		defer close(tokensDone)
		defer close(tokens)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-stopTokens:
				return
			case <-tick.C:
				select {
				case tokens <- struct{}{}:
				default: // every worker is waiting on an answer: the rate drops
				}
			}
		}
	}()

	began := time.Now()
	steady := func() { time.Sleep(2 * time.Second) } // load runs meanwhile
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// killAtCommit kills the server at the commit of a transaction that
	// writes an audit row of action (so one that makes a change, not only
	// a nonce), before or after the server commits it.
	killAtCommit := func(where mariadbtest.CommitFault, action string) {
		t.Helper()
		killed := make(chan error, 1)
		proxy.BreakNextCommit(mariadbtest.Fault{Commit: where, When: []byte(action), Then: func() { killed <- srv.Kill() }})
		select {
		case err := <-killed:
			must("killing at a commit", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no COMMIT within 30s")
		}
		// Down for a while: sometimes past the callers' deadlines, so that
		// the outcome stays unknown to them.
		time.Sleep(time.Duration(rand.Int64N(int64(2 * storeTimeout))))
		must("restarting", srv.Restart())
	}
	for round := range rounds {
		t.Logf("round %d", round+1)
		steady()
		must("shutting down", srv.Shutdown())
		must("starting", srv.Restart())
		steady()
		killAtCommit(mariadbtest.LoseAnswer, "request.submitted") // the server had committed
		steady()
		killAtCommit(mariadbtest.LoseAnswer, "grant.revoked")
		steady()
		killAtCommit(mariadbtest.LoseCommit, "request.submitted") // it had not
		steady()
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		must("killing", srv.Kill()) // at any moment
		time.Sleep(time.Second)
		must("restarting", srv.Restart())
		steady()
		must("freezing", srv.Stop())
		time.Sleep(2 * storeTimeout) // past every caller's deadline
		must("thawing", srv.Continue())
	}
	steady()
	close(stopTokens)
	<-tokensDone
	workers.Wait()
	seconds := time.Since(began).Seconds()

	db, err := sql.Open("mysql", srv.DSN("lockbox"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep := rig.check(t, db, seconds)
	t.Logf("fault run: %d round(s), store deadline %v, %d calls per second offered\n%s", rounds, storeTimeout, rate, rep)
	if rep.falseNothingChanged+rep.unknownConflict+rep.missing+rep.duplicated+rep.unresolved+rep.failed > 0 {
		t.Errorf("answers do not match the rows:\n%s", slices.Compact(rep.examples))
	}
	if rep.longest > storeTimeout+3*time.Second {
		t.Errorf("a first answer took %v; the store deadline is %v", rep.longest.Round(time.Millisecond), storeTimeout)
	}
	if rep.succeeded == 0 || rep.unavailableFirst == 0 {
		t.Errorf("the run saw no successes or no outages; it tested nothing:\n%s", rep)
	}
}
