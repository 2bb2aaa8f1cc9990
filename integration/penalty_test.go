package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// anonymousCall sends one unsigned GET /v1/whoami to the CA at addr on a
// new connection from the local address from (see rawCall).
func anonymousCall(t *testing.T, addr, from string) (status int, closes bool, err error) {
	t.Helper()
	return rawCall(t, addr, from, fmt.Sprintf("GET /v1/whoami HTTP/1.1\r\nHost: %s\r\n\r\n", addr))
}

// rawCall sends request, as it is, to addr on a new connection from the
// local address from, and returns the answer's status and whether it
// closes the connection, or the error that ended the connection before
// a status line.
func rawCall(t *testing.T, addr, from, request string) (status int, closes bool, err error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s from %s: %v", addr, from, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, request); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, false, err
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
	resp.Body.Close()
	return resp.StatusCode, resp.Close, nil // Close: Connection: close
}

// `ca serve` penalises by default: a source (127.0.0.2, not exempt)
// refused more than penalty.budget times has its new connections closed
// at accept, without an answer, while loopback (127.0.0.1, exempt by
// default, as a bastion is) is answered however often it is refused.
func TestCAServePenalisesAFloodingSourceNotAnExemptOne(t *testing.T) {
	t.Parallel()
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	c.start("--penalty_budget", "3", "--penalty_interval", "1h", "--penalty_duration", "1h")
	addr := strings.TrimPrefix(c.url, "http://")
	for i := 1; i <= 4; i++ {
		status, closes, err := anonymousCall(t, addr, "127.0.0.2")
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("anonymous call %d from 127.0.0.2 (budget 3): %d, %v; want 401", i, status, err)
		}
		if closes != (i == 4) {
			t.Fatalf("anonymous call %d from 127.0.0.2 (budget 3) answered with Connection: close %v; want close only on the 4th", i, closes)
		}
	}
	for i := range 3 {
		if status, _, err := anonymousCall(t, addr, "127.0.0.2"); err == nil {
			t.Fatalf("new connection %d of the penalised 127.0.0.2 answered %d; want it closed before an answer", i+1, status)
		}
	}
	for i := range 20 {
		if status, closes, err := anonymousCall(t, addr, "127.0.0.1"); err != nil || status != http.StatusUnauthorized || closes {
			t.Fatalf("anonymous call %d from the exempt 127.0.0.1: %d (Connection: close %v), %v; want 401 on a connection kept open", i+1, status, closes, err)
		}
	}
	// Someone who signs in from the exempt address is served meanwhile.
	c.ok("alice", "whoami")
	m := scrape(t, metricsURL(t, c.log))
	if n := m.get(t, "lockbox_api_penalty_refused_connections_total"); n != 3 {
		t.Errorf("lockbox_api_penalty_refused_connections_total = %v, want 3", n)
	}
	if n := m.get(t, "lockbox_api_penalties_total", `kind="source"`); n != 1 {
		t.Errorf(`lockbox_api_penalties_total{kind="source"} = %v, want 1`, n)
	}
	if !strings.Contains(c.log.String(), "source penalised") {
		t.Errorf("the CA's log does not say a source was penalised:\n%s", c.log.String())
	}
}

// The web form's anonymous refusals count in the same budget: forged
// login forms from 127.0.0.2 get it penalised on the whole listener, the
// API included.
func TestCAServePenalisesAFloodOfForgedLoginForms(t *testing.T) {
	t.Parallel()
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	c.start("--penalty_budget", "3", "--penalty_interval", "1h", "--penalty_duration", "1h")
	addr := strings.TrimPrefix(c.url, "http://")
	body := "user=carol&password=guess&code=000000"
	form := fmt.Sprintf("POST /ui/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	for i := 1; i <= 4; i++ {
		status, closes, err := rawCall(t, addr, "127.0.0.2", form)
		if err != nil || status != http.StatusForbidden {
			t.Fatalf("forged login %d from 127.0.0.2 (budget 3): %d, %v; want 403", i, status, err)
		}
		if closes != (i == 4) {
			t.Fatalf("forged login %d: Connection: close %v; want close only on the 4th", i, closes)
		}
	}
	if status, _, err := anonymousCall(t, addr, "127.0.0.2"); err == nil {
		t.Fatalf("a new connection of the penalised 127.0.0.2 answered %d; want it closed before an answer", status)
	}
}
