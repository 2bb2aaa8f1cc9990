package bastion

import (
	"net"
	"sync"
	"time"
)

// x/crypto/ssh writes each packet through a bufio.Writer of this size: the
// length prefix goes into the buffer, then the rest of the packet, so a
// packet longer than the buffer leaves in two writes, a full buffer (4,096
// bytes) and the remainder, and a relayed 32 KiB packet costs two
// syscalls, two TCP segments and two wakeups of the peer, which cannot
// decrypt the first part alone.
const cryptoWriteBuffer = 4096

// coalesceDelay bounds how long a held write waits for the rest of its
// packet. With the AEAD ciphers the bastion offers (the length prefix and
// a 16-byte tag around a body of 16-byte blocks) no packet is ever exactly
// 4,096 bytes, so the rest always follows at once; the delay is there so
// that a packet that did end there (a cipher or an x/crypto that works
// otherwise) is sent late rather than never.
const coalesceDelay = time.Millisecond

// coalescingConn sends x/crypto's full-buffer write together with the rest
// of its packet: a write of exactly cryptoWriteBuffer bytes is copied and
// held, and goes out with the next write in one writev. Every other write
// goes straight through. The held bytes are in a pooled buffer, so an idle
// connection holds nothing.
type coalescingConn struct {
	net.Conn
	writev func(net.Buffers) (int64, error) // one write of several buffers

	mu    sync.Mutex
	held  *[]byte     // a pooled buffer while a write is held
	timer *time.Timer // sends a held write after coalesceDelay
	err   error       // the error of a held write sent by the timer

	// Reads (readbuf.go), by x/crypto's reader goroutine alone.
	tryRead   func([]byte) (int, error) // reads what is queued without waiting; nil: no read buffering
	rb        *readBuf                  // a pooled buffer while it holds unread bytes
	streaming bool                      // the last read filled its slice or found data queued
}

var heldBufs = sync.Pool{New: func() any { b := make([]byte, cryptoWriteBuffer); return &b }}

// coalesceWrites wraps c, a TCP connection x/crypto/ssh will use: the
// held bytes and the next write leave in one writev, and while data is
// streaming reads take what has queued (readbuf.go).
func coalesceWrites(c *net.TCPConn) *coalescingConn {
	cc := &coalescingConn{Conn: c, writev: func(b net.Buffers) (int64, error) { return b.WriteTo(c) }}
	if rc, err := c.SyscallConn(); err == nil {
		cc.tryRead = tryReadRaw(rc)
	}
	return cc
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.held != nil {
		c.timer.Stop()
		held := c.held
		c.held = nil
		n, err := c.writev(net.Buffers{*held, p})
		heldBufs.Put(held)
		// The held bytes were reported written already.
		return max(0, int(n)-cryptoWriteBuffer), err
	}
	if len(p) != cryptoWriteBuffer {
		return c.Conn.Write(p)
	}
	c.held = heldBufs.Get().(*[]byte)
	copy(*c.held, p)
	if c.timer == nil {
		c.timer = time.AfterFunc(coalesceDelay, c.flushHeld)
	} else {
		c.timer.Reset(coalesceDelay)
	}
	return len(p), nil
}

// flushHeld sends a held write that no other followed.
func (c *coalescingConn) flushHeld() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sendHeld()
}

// sendHeld writes the held bytes, if any; c.mu is held.
func (c *coalescingConn) sendHeld() {
	if c.held == nil {
		return
	}
	held := c.held
	c.held = nil
	if _, err := c.Conn.Write(*held); err != nil && c.err == nil {
		c.err = err
	}
	heldBufs.Put(held)
}

// Close sends what is held first.
func (c *coalescingConn) Close() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.sendHeld()
	c.mu.Unlock()
	return c.Conn.Close()
}
