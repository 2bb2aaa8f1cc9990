package bastion

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// countedConn counts the reads of its socket, and once armed holds each
// read until gate is closed.
type countedConn struct {
	net.Conn
	reads atomic.Int64
	armed atomic.Bool
	gate  chan struct{}
}

func (c *countedConn) Read(p []byte) (int, error) {
	if c.armed.Load() {
		<-c.gate
	}
	c.reads.Add(1)
	return c.Conn.Read(p)
}

// queuedReads has an x/crypto server send packets 32 KiB writes on a
// session channel over loopback TCP while the x/crypto client's reads of
// its socket are held, until every byte is queued on the client's
// socket; then it counts the reads of the socket (blocking and, with
// buffered, the reads of what is queued) the client makes for them.
func queuedReads(t *testing.T, buffered bool, packets int, data []byte) (reads int64, got []byte) {
	t.Helper()
	hostKey := newKey(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := make(chan struct{})
	type result struct {
		conn *net.TCPConn
		err  error
	}
	written := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			written <- result{err: err}
			return
		}
		cfg := &ssh.ServerConfig{NoClientAuth: true, Config: ssh.Config{Ciphers: DefaultCiphers, KeyExchanges: DefaultKeyExchanges}}
		cfg.AddHostKey(hostKey)
		sconn, chans, reqs, err := ssh.NewServerConn(c, cfg)
		if err != nil {
			written <- result{err: err}
			return
		}
		defer sconn.Wait() //nolint:errcheck
		go ssh.DiscardRequests(reqs)
		ch, chReqs, err := (<-chans).Accept()
		if err != nil {
			written <- result{err: err}
			return
		}
		go ssh.DiscardRequests(chReqs)
		<-start
		for range packets {
			if _, err := ch.Write(data); err != nil {
				written <- result{err: err}
				return
			}
		}
		ch.Close()
		written <- result{conn: c.(*net.TCPConn)}
	}()

	// A receive buffer that holds every packet, so that all of them
	// queue while the client's reads are held.
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2<<20)
		}); err != nil {
			return err
		}
		return serr
	}}
	nc, err := d.DialContext(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := nc.(*net.TCPConn)
	counted := &countedConn{Conn: tc, gate: make(chan struct{})}
	cc := &coalescingConn{Conn: counted, writev: func(b net.Buffers) (int64, error) { return b.WriteTo(tc) }}
	if buffered {
		rc, err := tc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		try := tryReadRaw(rc)
		cc.tryRead = func(p []byte) (int, error) {
			if counted.armed.Load() {
				<-counted.gate
			}
			counted.reads.Add(1)
			return try(p)
		}
	}
	cconn, cchans, creqs, err := ssh.NewClientConn(cc, l.Addr().String(), &ssh.ClientConfig{HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Config: ssh.Config{Ciphers: DefaultCiphers, KeyExchanges: DefaultKeyExchanges}})
	if err != nil {
		t.Fatal(err)
	}
	client := ssh.NewClient(cconn, cchans, creqs)
	defer client.Close()
	ch, reqs, err := client.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)

	// Hold the client's reads (the one waiting now returns the first
	// bytes to arrive), send everything, and wait until the server's
	// socket has nothing left unacknowledged: all of it is queued on the
	// client's.
	counted.armed.Store(true)
	close(start)
	r := <-written
	if r.err != nil {
		t.Fatal(r.err)
	}
	raw, err := r.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var outq int
		var ierr error
		if err := raw.Control(func(fd uintptr) { outq, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil || ierr != nil {
			t.Fatal(err, ierr)
		}
		if outq == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still unacknowledged on the server's socket", outq)
		}
		time.Sleep(time.Millisecond) // polling the condition, not waiting in its place
	}
	counted.reads.Store(0)
	close(counted.gate)
	got, err = io.ReadAll(ch)
	if err != nil {
		t.Fatal(err)
	}
	return counted.reads.Load(), got
}

// Packets that have queued on the socket are read a buffer at a time,
// not in two reads each (x/crypto's 4 KiB bufio.Reader takes the start
// of each packet, then the rest of it straight into its own slice). The
// same transfer without read buffering shows the two reads a packet, so
// the test can tell.
func TestQueuedPacketsAreReadInBulk(t *testing.T) {
	const packets = 16
	data := bytes.Repeat([]byte("lockbox relays this line. "), fullPacket/26+1)[:fullPacket]
	want := bytes.Repeat(data, packets)

	plain, got := queuedReads(t, false, packets, data)
	if !bytes.Equal(got, want) {
		t.Fatalf("unbuffered: the client read %d bytes, not the %d written", len(got), len(want))
	}
	if plain < 2*packets-2 {
		t.Fatalf("unbuffered: %d reads for %d packets: x/crypto no longer reads a packet in two", plain, packets)
	}
	buffered, got := queuedReads(t, true, packets, data)
	if !bytes.Equal(got, want) {
		t.Fatalf("buffered: the client read %d bytes, not the %d written", len(got), len(want))
	}
	// 16 packets are about four buffers; a few more reads for the first
	// bytes, the one that finds the queue empty and the end.
	if buffered > packets/2 {
		t.Errorf("buffered: %d reads of the socket for %d queued packets, want at most %d (unbuffered: %d)", buffered, packets, packets/2, plain)
	}
	t.Logf("reads for %d queued packets: %d unbuffered, %d buffered", packets, plain, buffered)
}
