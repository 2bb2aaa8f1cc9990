package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/penalty"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// Loopback is a whole /8: the flooder dials from 127.0.0.2, the callers
// who are not penalised from 127.0.0.1.
var (
	flooderAddr = netip.MustParseAddr("127.0.0.2")
	bystander   = netip.MustParseAddr("127.0.0.1")
)

// testClock is a clock tests move by hand, safe for the server's
// goroutines.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// newPenalisingServer is a server whose anonymous refusals count against
// per-source penalties of budget refusals, as cmd/ca runs it, with the
// penalties' clock in the test's hands.
func newPenalisingServer(t *testing.T, cfg penalty.Config) (*server, *penalty.Table, *testClock) {
	t.Helper()
	clk := newTestClock()
	cfg.Clock = clk.Now
	tb, err := penalty.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newServerWith(t, func(c *api.Config) { c.Penalties = tb }), tb, clk
}

// rawConn is one TCP connection from a chosen local address, on which a
// test writes HTTP by hand and reads the answers.
type rawConn struct {
	net.Conn
	rd *bufio.Reader
}

func dialFrom(t *testing.T, from netip.Addr, serverURL string) *rawConn {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck // a TCP connection
	return &rawConn{Conn: c, rd: bufio.NewReader(c)}
}

// unsigned sends an unsigned GET /v1/whoami and reads its answer; it
// returns the answer, or the error of a connection closed without one.
func (c *rawConn) unsigned(t *testing.T) (*http.Response, error) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /v1/whoami HTTP/1.1\r\nHost: ca\r\n\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.rd, nil)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // read to the end of the answer
	resp.Body.Close()
	return resp, nil
}

// floodUntilClosed sends unsigned calls on one connection until the CA
// closes it, and returns how many were answered 401 (and fails on any
// other answer).
func floodUntilClosed(t *testing.T, c *rawConn, limit int) (answered int, lastClose bool) {
	t.Helper()
	for range limit {
		resp, err := c.unsigned(t)
		if err != nil {
			return answered, lastClose
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned call %d: %d, want 401", answered+1, resp.StatusCode)
		}
		answered++
		lastClose = resp.Close
	}
	return answered, lastClose
}

// refusedAtAccept reports whether a new connection from addr is closed
// by the CA without a byte of answer to its request.
func refusedAtAccept(t *testing.T, from netip.Addr, serverURL string) bool {
	t.Helper()
	c := dialFrom(t, from, serverURL)
	resp, err := c.unsigned(t)
	if err == nil {
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned call on a new connection: %d, want 401 or no answer", resp.StatusCode)
		}
		return false
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("new connection: %v, want it closed by the CA", err)
	}
	return true
}

// clientFrom is a signing client for principal whose connections come
// from addr, with a count of the connections it opened.
func (s *server) clientFrom(t *testing.T, principal string, from netip.Addr) (*client.Client, *http.Transport, *atomic.Int64) {
	t.Helper()
	var dials atomic.Int64
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}, MaxIdleConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := client.New(s.url, &apiauth.Signer{Principal: principal, Key: s.keys[principal]}, &http.Client{Transport: tr, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, tr, &dials
}

// A source that floods unsigned calls goes over its budget: the call that
// does is answered with Connection: close and its connection closed,
// and its new connections are closed at accept with no answer, while
// another address is answered as usual.
func TestFloodingSourceIsPenalisedAndItsConnectionsClosedUnanswered(t *testing.T) {
	s, _, _ := newPenalisingServer(t, penalty.Config{Budget: 50})
	refused0 := testutil.ToFloat64(metrics.PenaltyRefusedConnections)
	started0 := testutil.ToFloat64(metrics.PenaltiesStarted.WithLabelValues("source"))

	answered, closing := floodUntilClosed(t, dialFrom(t, flooderAddr, s.url), 1000)
	if answered != 51 || !closing {
		t.Fatalf("one keepalive connection answered %d unsigned calls (last with Connection: close %v); want 50 within the budget and the 51st closing it",
			answered, closing)
	}
	for i := range 20 {
		if !refusedAtAccept(t, flooderAddr, s.url) {
			t.Fatalf("new connection %d of the penalised source was answered", i+1)
		}
	}
	if refusedAtAccept(t, bystander, s.url) {
		t.Fatal("a connection from another address was refused")
	}
	if who, err := s.client(t, "user:alice").WhoAmI(ctx); err != nil || who != "user:alice" {
		t.Fatalf("alice from another address during the penalty: %q %v", who, err)
	}
	if got := testutil.ToFloat64(metrics.PenaltyRefusedConnections) - refused0; got != 20 {
		t.Errorf("lockbox_api_penalty_refused_connections_total rose by %v, want 20", got)
	}
	if got := testutil.ToFloat64(metrics.PenaltiesStarted.WithLabelValues("source")) - started0; got != 1 {
		t.Errorf("lockbox_api_penalties_total{kind=source} rose by %v, want 1", got)
	}

	// The audit log: one anonymous.refused row for the source, with the
	// penalty started once and the refused connections counted in it.
	head := s.auditHead(t)
	if _, err := s.wf.FlushAnonymousRefusals(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var rows []audit.Record
	for _, r := range s.auditSince(t, head) {
		if r.Subject == "127.0.0.2" {
			rows = append(rows, r)
		}
	}
	if len(rows) != 1 || rows[0].Action != workflow.ActionAnonymousRefused {
		t.Fatalf("audit rows of 127.0.0.2 after the flood: %+v; want one anonymous.refused", rows)
	}
	var detail struct{ Reasons map[string]int }
	if err := json.Unmarshal(rows[0].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if reasons := detail.Reasons; reasons["penalty_started"] != 1 || reasons["penalised_connection"] != 20 || reasons["unauthenticated"] != 51 {
		t.Fatalf("the row's reasons: %v; want 51 unauthenticated, penalty_started 1, penalised_connection 20", detail.Reasons)
	}
}

// The penalty is wholesale, as sshd's: a person calling from the
// penalised address keeps the connection it has (authenticated calls are
// never counted, nor answered with Connection: close), but a new
// connection is refused until the penalty ends; then it works again.
func TestPenaltyLocksOutNewConnectionsOfTheAddressUntilItEnds(t *testing.T) {
	s, _, clk := newPenalisingServer(t, penalty.Config{Budget: 5, Duration: 30 * time.Second})
	alice, tr, dials := s.clientFrom(t, "user:alice", flooderAddr)
	if _, err := alice.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	floodUntilClosed(t, dialFrom(t, flooderAddr, s.url), 100)
	if !refusedAtAccept(t, flooderAddr, s.url) {
		t.Fatal("the source is not penalised")
	}
	for i := range 20 { // well over the budget, on the connection alice had
		if who, err := alice.WhoAmI(ctx); err != nil || who != "user:alice" {
			t.Fatalf("alice's call %d on her open connection during the penalty: %q %v", i+1, who, err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Fatalf("alice's client opened %d connections, want her first one kept", n)
	}
	tr.CloseIdleConnections()
	if _, err := alice.WhoAmI(ctx); err == nil {
		t.Fatal("alice's new connection from the penalised address was answered during the penalty")
	}
	clk.advance(30 * time.Second)
	if who, err := alice.WhoAmI(ctx); err != nil || who != "user:alice" {
		t.Fatalf("alice's new connection once the penalty ended: %q %v", who, err)
	}
	if refusedAtAccept(t, flooderAddr, s.url) {
		t.Fatal("the source is still refused once its penalty ended")
	}
}

// Authenticated callers' refusals are not counted: a known caller whose
// calls are refused one by one (audited) is never penalised.
func TestAuthenticatedRefusalsDoNotCountTowardAPenalty(t *testing.T) {
	s, tb, _ := newPenalisingServer(t, penalty.Config{Budget: 2})
	alice, _, _ := s.clientFrom(t, "user:alice", flooderAddr)
	for i := range 10 {
		if _, err := alice.Get(ctx, "no-such-request"); err == nil {
			t.Fatalf("call %d for a request that does not exist succeeded", i)
		}
	}
	if tb.Penalised(flooderAddr) || tb.Len() != 0 {
		t.Fatalf("10 refused authenticated calls: penalised %v, %d sources counted; want none", tb.Penalised(flooderAddr), tb.Len())
	}
}

// An exempt source (a bastion, a replica) is never penalised, however
// many of its calls are refused.
func TestExemptSourceIsNeverPenalisedOverTCP(t *testing.T) {
	s, _, _ := newPenalisingServer(t, penalty.Config{Budget: 5, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	if answered, closing := floodUntilClosed(t, dialFrom(t, flooderAddr, s.url), 300); answered != 300 || closing {
		t.Fatalf("exempt source: %d of 300 unsigned calls answered, closing %v; want all on one connection", answered, closing)
	}
	if refusedAtAccept(t, flooderAddr, s.url) {
		t.Fatal("a new connection of the exempt source was refused")
	}
}

// With many flooders at once, each is penalised on its own, and the
// callers that are not flooding keep being answered.
func TestConcurrentFloodersArePenalisedEach(t *testing.T) {
	s, tb, _ := newPenalisingServer(t, penalty.Config{Budget: 20})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialFrom(t, netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)}), s.url)
			floodUntilClosed(t, c, 1000)
		}()
	}
	wg.Wait()
	for i := range 4 {
		if a := netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)}); !tb.Penalised(a) {
			t.Errorf("flooder %s not penalised", a)
		}
	}
	if who, err := s.client(t, "user:alice").WhoAmI(ctx); err != nil || who != "user:alice" {
		t.Fatalf("alice beside the flooders: %q %v", who, err)
	}
}
