package bastion

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// loggedConn records the size of each write it sends on.
type loggedConn struct {
	net.Conn
	mu     sync.Mutex
	writes []int
}

func (c *loggedConn) Write(p []byte) (int, error) {
	c.log(len(p))
	return c.Conn.Write(p)
}

func (c *loggedConn) log(n int) {
	c.mu.Lock()
	c.writes = append(c.writes, n)
	c.mu.Unlock()
}

// bulkOverSSH serves one x/crypto/ssh session channel on a real TCP
// connection, writes packets writes of data on it (coalesced or not) and
// returns the sizes of the writes the server's side sent on for them and
// what an x/crypto client read.
func bulkOverSSH(t *testing.T, coalesce bool, packets int, data []byte) (writes []int, got []byte) {
	t.Helper()
	hostKey := newKey(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		writes []int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		logged := &loggedConn{Conn: c}
		var conn net.Conn = logged
		if coalesce {
			// As coalesceWrites, with the one vectored write logged.
			conn = &coalescingConn{Conn: logged, writev: func(b net.Buffers) (int64, error) {
				total := 0
				for _, p := range b {
					total += len(p)
				}
				logged.log(total)
				return b.WriteTo(c)
			}}
		}
		cfg := &ssh.ServerConfig{NoClientAuth: true, Config: ssh.Config{Ciphers: DefaultCiphers, KeyExchanges: DefaultKeyExchanges}}
		cfg.AddHostKey(hostKey)
		sconn, chans, reqs, err := ssh.NewServerConn(conn, cfg)
		if err != nil {
			done <- result{err: err}
			return
		}
		// Closing first would reset the connection with the client's
		// window adjustments unread, and lose what the client has not
		// read yet: wait for the client to close.
		defer sconn.Wait() //nolint:errcheck
		go ssh.DiscardRequests(reqs)
		nc := <-chans
		ch, chReqs, err := nc.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		go ssh.DiscardRequests(chReqs)
		logged.mu.Lock()
		logged.writes = nil
		logged.mu.Unlock()
		for range packets {
			if _, err := ch.Write(data); err != nil {
				done <- result{err: err}
				return
			}
		}
		logged.mu.Lock()
		writes := logged.writes
		logged.mu.Unlock()
		ch.Close()
		done <- result{writes: writes}
	}()
	client, err := ssh.Dial("tcp", l.Addr().String(), &ssh.ClientConfig{HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Config: ssh.Config{Ciphers: DefaultCiphers, KeyExchanges: DefaultKeyExchanges}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ch, reqs, err := client.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	got, err = io.ReadAll(ch)
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	client.Close()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.writes, got
}

// A relayed 32 KiB packet leaves the bastion in one write, not two:
// x/crypto writes the first 4,096 bytes of it and the rest separately,
// and coalescingConn sends them together. The same transfer without it
// shows the two writes, so the test can tell.
func TestRelayedPacketLeavesInOneWrite(t *testing.T) {
	const packets = 64
	data := bytes.Repeat([]byte("lockbox relays this line. "), fullPacket/26+1)[:fullPacket]
	want := bytes.Repeat(data, packets)
	count := func(writes []int) (held, whole int) {
		for _, n := range writes {
			switch {
			case n == cryptoWriteBuffer:
				held++
			case n > fullPacket:
				whole++
			}
		}
		return held, whole
	}

	plain, got := bulkOverSSH(t, false, packets, data)
	if !bytes.Equal(got, want) {
		t.Fatalf("without coalescing: the client read %d bytes, not the %d written", len(got), len(want))
	}
	if held, _ := count(plain); held != packets {
		t.Fatalf("without coalescing, %d writes of %d bytes for %d packets: x/crypto no longer splits packets so (writes %v)",
			held, cryptoWriteBuffer, packets, plain)
	}
	coalesced, got := bulkOverSSH(t, true, packets, data)
	if !bytes.Equal(got, want) {
		t.Fatalf("coalesced: the client read %d bytes, not the %d written", len(got), len(want))
	}
	held, whole := count(coalesced)
	if held != 0 || whole != packets {
		t.Errorf("coalesced: %d split writes and %d whole packets for %d packets, want 0 and %d (writes %v)", held, whole, packets, packets, coalesced)
	}
}

// A write of exactly the held size that nothing follows still leaves,
// after coalesceDelay, and Close sends what is held.
func TestHeldWriteIsSentWhenNothingFollows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close bool
	}{{"after the delay", false}, {"at close", true}} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			dialed, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			peer, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			c := coalesceWrites(dialed.(*net.TCPConn))
			defer c.Close()
			msg := bytes.Repeat([]byte{'x'}, cryptoWriteBuffer)
			if n, err := c.Write(msg); n != len(msg) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if tc.close {
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
			peer.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(peer, got); err != nil {
				t.Fatalf("the held write never arrived: %v", err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatal("the held write arrived changed")
			}
		})
	}
}
