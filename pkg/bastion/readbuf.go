package bastion

import (
	"sync"
	"syscall"
)

// readBufSize is how much one read of the socket takes while data is
// streaming: four of the 32 KiB packets sshd sends bulk output in.
const readBufSize = 128 << 10

// minStreamingRead is the smallest read that, filling its slice, starts
// streaming: x/crypto reads the version line a byte at a time, and the
// first read of each bulk packet is a fill of its 4 KiB buffer.
const minStreamingRead = 1024

// x/crypto/ssh reads each packet through a 4,096-byte bufio.Reader: the
// length prefix with a fill of that buffer, then the rest of a 32 KiB
// packet straight into its own slice, two reads of the socket (and often
// two wakeups) a packet. While data is streaming, coalescingConn reads the
// socket into a pooled readBuf instead and serves x/crypto's reads from
// it, so that one read carries what has queued, up to four packets.
//
// Streaming starts with a read of at least minStreamingRead bytes that
// filled the caller's slice (more is probably queued) and lasts while a read into the pooled buffer, which
// never waits, finds data. Nothing queued: the buffer goes back to the
// pool and the read waits in the caller's slice, as it would without
// this, so a connection holds the buffer only while it has unread bytes
// in it and never while it waits; an idle connection holds nothing.
type readBuf struct {
	buf    []byte
	unread []byte
}

var readBufs = sync.Pool{New: func() any { return &readBuf{buf: make([]byte, readBufSize)} }}

// tryReadRaw reads what is queued on rc without waiting: n > 0, or 0 and
// an error (EAGAIN when nothing is queued; 0 and nil at the end).
func tryReadRaw(rc syscall.RawConn) func([]byte) (int, error) {
	return func(p []byte) (n int, err error) {
		if cerr := rc.Read(func(fd uintptr) bool {
			n, err = syscall.Read(int(fd), p)
			return true
		}); cerr != nil {
			return 0, cerr
		}
		return n, err
	}
}

// Read serves p from the pooled buffer, or fills the buffer from what is
// queued while data is streaming, or reads into p. Only x/crypto's reader
// goroutine calls it.
func (c *coalescingConn) Read(p []byte) (int, error) {
	if rb := c.rb; rb != nil {
		n := copy(p, rb.unread)
		rb.unread = rb.unread[n:]
		if len(rb.unread) == 0 {
			c.rb = nil
			readBufs.Put(rb)
		}
		return n, nil
	}
	if c.streaming && c.tryRead != nil && len(p) < readBufSize {
		rb := readBufs.Get().(*readBuf)
		if n, _ := c.tryRead(rb.buf); n > 0 {
			k := copy(p, rb.buf[:n])
			if k < n {
				rb.unread = rb.buf[k:n]
				c.rb = rb
			} else {
				readBufs.Put(rb)
			}
			return k, nil
		}
		// Nothing queued (or an error or the end, which the read below
		// reports as the connection would).
		readBufs.Put(rb)
		c.streaming = false
	}
	n, err := c.Conn.Read(p)
	c.streaming = err == nil && n >= minStreamingRead && n == len(p)
	return n, err
}
