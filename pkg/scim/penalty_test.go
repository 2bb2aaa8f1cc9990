package scim_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/penaltytest"
	"github.com/lockbox-ssh/lockbox/pkg/penalty"
	"github.com/lockbox-ssh/lockbox/pkg/scim"
)

type rawConn struct {
	net.Conn
	rd *bufio.Reader
}

func dialFrom(t *testing.T, from, serverURL string) *rawConn {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck // a TCP connection
	return &rawConn{Conn: c, rd: bufio.NewReader(c)}
}

// get sends GET /scim/v2/Users with auth (none if empty) and reads the
// answer, or returns the error of a connection closed without one.
func (c *rawConn) get(auth string) (*http.Response, error) {
	req := "GET /scim/v2/Users HTTP/1.1\r\nHost: ca\r\n"
	if auth != "" {
		req += "Authorization: " + auth + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
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

// A source that keeps calling with a wrong token is penalised once over
// its budget: the answer that starts the penalty closes the connection,
// the source's next connection is closed at accept, and the directory
// calling from another address is served.
func TestCallsWithAWrongTokenPenaliseTheirSource(t *testing.T) {
	const budget = 5
	tb, err := penalty.New(penalty.Config{Budget: budget, Interval: time.Minute, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := penaltytest.NewRecorder(tb)
	e := newEnvWith(t, func(c *scim.Config) { c.Penalties = p },
		func(ln net.Listener) net.Listener { return penaltytest.Listener{Listener: ln, T: tb} })
	c := dialFrom(t, "127.0.0.2", e.srv.URL)
	for i := range budget + 1 {
		resp, err := c.get("Bearer wrong")
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("call %d: %d, want 401", i+1, resp.StatusCode)
		}
		if want := i+1 > budget; resp.Close != want {
			t.Fatalf("call %d: Connection: close is %v, want %v", i+1, resp.Close, want)
		}
	}
	if _, err := c.get("Bearer wrong"); err == nil {
		t.Fatal("the connection stayed open after the answer that closed it")
	}
	_, err = dialFrom(t, "127.0.0.2", e.srv.URL).get("Bearer " + token)
	if err == nil {
		t.Fatal("the penalised source's new connection was served, even with the right token")
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("new connection: %v, want it closed by the server", err)
	}
	resp, err := dialFrom(t, "127.0.0.1", e.srv.URL).get("Bearer " + token)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the directory from another address: %v %v", resp, err)
	}
	sources := p.Sources()
	if sources["127.0.0.2"] != budget+1 || len(sources) != 1 {
		t.Fatalf("refusals counted by source: %v, want %d under 127.0.0.2", sources, budget+1)
	}
}
