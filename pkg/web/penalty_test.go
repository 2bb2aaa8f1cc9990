package web_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/penaltytest"
	"github.com/lockbox-ssh/lockbox/pkg/penalty"
	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// Loopback is a whole /8: the flooder dials from 127.0.0.2, the person
// who is not penalised from 127.0.0.1.
var (
	flooderAddr = netip.MustParseAddr("127.0.0.2")
	bystander   = netip.MustParseAddr("127.0.0.1")
)

// newPenalisingFixture serves the pages on a guarded listener, their
// anonymous refusals counted against a budget of budget a minute.
func newPenalisingFixture(t *testing.T, cfg web.Config, budget int) (*fixture, *penaltytest.Recorder) {
	t.Helper()
	tb, err := penalty.New(penalty.Config{Budget: budget, Interval: time.Minute, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := penaltytest.NewRecorder(tb)
	cfg.Penalties = p
	f := newFixture(t, cfg)
	f.srv.Close()
	f.srv = httptest.NewUnstartedServer(f.srv.Config.Handler)
	f.srv.Listener = penaltytest.Listener{Listener: f.srv.Listener, T: tb}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f, p
}

// rawConn is one TCP connection from a chosen local address.
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

// forgedLogin posts a login form without its token on c and reads the
// answer, or returns the error of a connection closed without one.
func (c *rawConn) forgedLogin() (*http.Response, error) {
	body := "user=carol&password=guess&code=000000"
	req := "POST /ui/login HTTP/1.1\r\nHost: ca\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(c, req); err != nil {
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

// closedAtAccept reports whether the server closed c without answering.
func closedAtAccept(t *testing.T, c *rawConn) bool {
	t.Helper()
	resp, err := c.forgedLogin()
	if err == nil {
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged login on a new connection: %d, want 403 or no answer", resp.StatusCode)
		}
		return false
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("new connection: %v, want it closed by the server", err)
	}
	return true
}

// A source that keeps sending login forms without their token is
// penalised once over its budget: the answer that starts the penalty
// closes the connection, the source's next connection is closed at
// accept, and another source is served as before.
func TestForgedFormsPenaliseTheirSource(t *testing.T) {
	const budget = 5
	f, p := newPenalisingFixture(t, web.Config{}, budget)
	c := dialFrom(t, flooderAddr, f.srv.URL)
	answered := 0
	for range budget + 1 {
		resp, err := c.forgedLogin()
		if err != nil {
			t.Fatalf("forged login %d: %v", answered+1, err)
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged login %d: %d, want 403", answered+1, resp.StatusCode)
		}
		answered++
		if want := answered > budget; resp.Close != want {
			t.Fatalf("forged login %d: Connection: close is %v, want %v", answered, resp.Close, want)
		}
	}
	if _, err := c.forgedLogin(); err == nil {
		t.Fatal("the connection stayed open after the answer that closed it")
	}
	if !closedAtAccept(t, dialFrom(t, flooderAddr, f.srv.URL)) {
		t.Fatal("the penalised source's new connection was served")
	}
	by := dialFrom(t, bystander, f.srv.URL)
	if _, err := io.WriteString(by, "GET /ui/login HTTP/1.1\r\nHost: ca\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(by.rd, nil)
	if err != nil {
		t.Fatalf("the other source: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the other source's login page: %d", resp.StatusCode)
	}
	sources := p.Sources()
	if sources["127.0.0.2"] != budget+1 || len(sources) != 1 {
		t.Fatalf("refusals counted by source: %v, want %d under 127.0.0.2", sources, budget+1)
	}
}

// Failed logins (wrong password) count too, and a login page shown is
// not a refusal.
func TestFailedLoginsPenaliseTheirSource(t *testing.T) {
	const budget = 3
	f, p := newPenalisingFixture(t, web.Config{}, budget)
	f.person("carol")
	b := f.browser()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: flooderAddr.AsSlice()}, Timeout: 10 * time.Second}
	b.hc.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	for i := range budget + 1 {
		res := b.tryLogin("carol", "wrong password", f.code("carol"))
		if res.status != http.StatusUnauthorized && res.status != http.StatusForbidden && res.status != http.StatusTooManyRequests {
			t.Fatalf("wrong password %d: %d\n%s", i+1, res.status, res.body)
		}
		if want := i+1 > budget; res.close != want {
			t.Fatalf("wrong password %d: Connection: close is %v, want %v", i+1, res.close, want)
		}
	}
	if !closedAtAccept(t, dialFrom(t, flooderAddr, f.srv.URL)) {
		t.Fatal("the penalised source's new connection was served")
	}
	sources := p.Sources()
	if sources["127.0.0.2"] != budget+1 {
		t.Fatalf("refusals counted by source: %v, want %d under 127.0.0.2", sources, budget+1)
	}
}
