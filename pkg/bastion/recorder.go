package bastion

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

var recordedBytes = metrics.RecordedBytes

// bigBuf is the size of the buffers that carry bulk data: four of the
// target's packets (fullPacket), so that when output arrives faster than
// the client takes it, one read, one write to the client and one recorded
// event carry what has queued up instead of one of each per packet.
const bigBuf = 4 * fullPacket

// fullPacket is the most data one channel packet carries to the bastion:
// x/crypto/ssh offers its peers a maximum packet of 32 KiB, and sshd
// sends bulk output in packets of exactly that.
const fullPacket = 32 << 10

// smallBuf is the size of the buffer a pump reads into while data
// trickles, and of the pooled copies it records of those reads.
const smallBuf = 512

// bufs holds bulk buffers shared by all sessions, and smallBufs the
// copies of small reads: an idle session holds none of them.
var (
	bufs      = sync.Pool{New: func() any { b := make([]byte, bigBuf); return &b }}
	smallBufs = sync.Pool{New: func() any { b := make([]byte, smallBuf); return &b }}
)

// putBuf returns a chunk's buffer to the pool it came from.
func putBuf(b *[]byte) {
	if len(*b) == bigBuf {
		bufs.Put(b)
	} else {
		smallBufs.Put(b)
	}
}

// recorder writes a session's recording off the relay's path: the relay
// hands it chunks in order over a short queue and goes on relaying, so
// encoding and writing overlap with the network. A full queue makes the
// relay wait: nothing goes unrecorded for long. Its goroutine runs only
// while chunks are queued, so an idle session has none.
type recorder struct {
	w    *recording.Writer
	q    chan chunk
	fail func(error)
	live *liveFeed // nil: live view off; set before the first chunk

	running atomic.Bool    // a goroutine is draining q
	drains  sync.WaitGroup // those goroutines
	failed  atomic.Bool

	mu     sync.Mutex // guards closed and sends on q
	closed bool
}

// chunk is one event: data in a pooled buffer (returned after use), a
// resize, or a signal or exit.
type chunk struct {
	kind       byte // 'o', 'i', 'r', 's', 'x'
	buf        *[]byte
	n          int
	cols, rows int
	text       string // the signal's name; the exit's signal name, if any
	status     uint32 // the exit status, when text is empty
}

func newRecorder(w *recording.Writer, fail func(error)) *recorder {
	return &recorder{w: w, q: make(chan chunk, 8), fail: fail}
}

// drain writes queued chunks until the queue is empty, then stops, unless
// a chunk arrived as it stopped.
func (r *recorder) drain() {
	defer r.drains.Done()
	for {
		select {
		case c := <-r.q:
			r.write(c)
		default:
			r.running.Store(false)
			// A chunk queued just before running was cleared found
			// the goroutine still running; take it on.
			if len(r.q) == 0 || !r.running.CompareAndSwap(false, true) {
				return
			}
		}
	}
}

func (r *recorder) write(c chunk) {
	var err error
	switch c.kind {
	case 'o':
		err = r.w.Output((*c.buf)[:c.n])
		if r.live != nil {
			r.live.output((*c.buf)[:c.n])
		}
		recordedBytes.Add(float64(c.n))
	case 'i':
		err = r.w.Input((*c.buf)[:c.n])
		recordedBytes.Add(float64(c.n))
	case 'r':
		err = r.w.Resize(c.cols, c.rows)
	case 's':
		err = r.w.Signal(c.text)
	case 'x':
		if c.text != "" {
			err = r.w.ExitSignal(c.text)
		} else {
			err = r.w.ExitStatus(c.status)
		}
	}
	if errors.Is(err, recording.ErrBadValue) {
		err = nil // a name the client or target made up: not recorded, not a failure
	}
	if c.buf != nil {
		putBuf(c.buf)
	}
	if err != nil && r.failed.CompareAndSwap(false, true) {
		r.fail(err)
	}
}

// data queues a chunk whose buffer the recorder now owns.
func (r *recorder) data(kind byte, buf *[]byte, n int) { r.send(chunk{kind: kind, buf: buf, n: n}) }

func (r *recorder) resize(cols, rows int) { r.send(chunk{kind: 'r', cols: cols, rows: rows}) }

// signal records a signal the client sent.
func (r *recorder) signal(name string) { r.send(chunk{kind: 's', text: name}) }

// exit records the target's exit-status or exit-signal request.
func (r *recorder) exit(req *ssh.Request) {
	if req.Type == "exit-status" {
		var st exitStatus
		if ssh.Unmarshal(req.Payload, &st) == nil {
			r.send(chunk{kind: 'x', status: st.Status})
		}
		return
	}
	var sig struct {
		Signal     string
		CoreDumped bool
		Msg, Lang  string
	}
	if ssh.Unmarshal(req.Payload, &sig) == nil {
		r.send(chunk{kind: 'x', text: sig.Signal})
	}
}

// send queues c, starting a goroutine to write it if none runs, or drops
// it once the recording is closed (input that arrives after the session
// ended reaches no target either).
func (r *recorder) send(c chunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		if c.buf != nil {
			putBuf(c.buf)
		}
		return
	}
	r.q <- c
	if r.running.CompareAndSwap(false, true) {
		r.drains.Add(1)
		go r.drain()
	}
}

// close waits until everything queued is written.
func (r *recorder) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.drains.Wait()
}

// pump copies src to dst, recording each chunk as kind, until src ends or
// dst fails. It reads into a small buffer of its own while data trickles
// (an idle session holds only that), and into pooled bulk buffers from a
// read that filled the small buffer for as long as the data read since
// then ends on a full packet: then more is likely queued behind it, and
// the next read takes all of that, up to bigBuf. A read that ends a
// burst ends in a packet that is not full, and the pump goes back to the
// small buffer before it waits.
func pump(dst interface{ Write([]byte) (int, error) }, src interface{ Read([]byte) (int, error) }, rec *recorder, kind byte, onRead func()) error {
	small := make([]byte, smallBuf)
	bulk := false
	run := 0 // bytes read since the small buffer last filled, while bulk
	for {
		var buf *[]byte
		var n int
		var err error
		if bulk {
			buf = bufs.Get().(*[]byte)
			n, err = src.Read(*buf)
		} else {
			n, err = src.Read(small)
			if n > 0 {
				buf = smallBufs.Get().(*[]byte)
				copy(*buf, small[:n])
			}
		}
		if n > 0 {
			if onRead != nil {
				onRead()
			}
			if bulk {
				run += n
				bulk = run%fullPacket == 0
			} else {
				run = n
				bulk = n == len(small)
			}
			if _, werr := dst.Write((*buf)[:n]); werr != nil {
				putBuf(buf)
				return werr
			}
			rec.data(kind, buf, n)
		} else if buf != nil {
			putBuf(buf)
		}
		if err != nil {
			return err
		}
	}
}
