package bastion

import (
	"sync"

	"golang.org/x/crypto/ssh"
)

// maxQueuedRequests bounds the client's requests held while a session is
// being opened (window changes, signals); more are refused.
const maxQueuedRequests = 16

// clientWatch watches the client while a session is being opened (the CA
// asked, the target dialled), when nothing else reads the channel's
// requests: it notices at once when the client's channel or connection
// goes, so that the session's lease is freed then, whatever stage it is
// at, and it keeps the requests that arrive meanwhile for the relay. It
// runs only until the relay takes over, so an idle session has no
// goroutine for it.
type clientWatch struct {
	reqs     <-chan *ssh.Request
	connDone <-chan struct{}
	quit     chan struct{}
	done     chan struct{}

	mu     sync.Mutex
	queue  []*ssh.Request
	gone   bool
	onGone func()
	noted  func() // called at once when the client goes, before onGone
}

// watchClient watches reqs and connDone; noted, if not nil, runs the
// moment the client is seen to go.
func watchClient(reqs <-chan *ssh.Request, connDone <-chan struct{}, noted func()) *clientWatch {
	w := &clientWatch{reqs: reqs, connDone: connDone, quit: make(chan struct{}), done: make(chan struct{}), noted: noted}
	go w.run()
	return w
}

func (w *clientWatch) run() {
	defer close(w.done)
	reqs, connDone := w.reqs, w.connDone
	for {
		select {
		case r, ok := <-reqs:
			if !ok {
				w.markGone()
				return
			}
			w.mu.Lock()
			keep := len(w.queue) < maxQueuedRequests
			if keep {
				w.queue = append(w.queue, r)
			}
			w.mu.Unlock()
			if !keep {
				reply(r, false)
			}
		case <-connDone:
			connDone = nil
			w.markGone()
		case <-w.quit:
			return
		}
	}
}

func (w *clientWatch) markGone() {
	w.mu.Lock()
	if w.gone {
		w.mu.Unlock()
		return
	}
	w.gone = true
	fn := w.onGone
	if w.noted != nil {
		w.noted()
	}
	w.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// whenGone has fn run once the client is gone: at once if it is already.
func (w *clientWatch) whenGone(fn func()) {
	w.mu.Lock()
	w.onGone = fn
	gone := w.gone
	w.mu.Unlock()
	if gone {
		fn()
	}
}

// stop ends the watch and returns the requests it kept, in order, and
// whether the client had gone.
func (w *clientWatch) stop() ([]*ssh.Request, bool) {
	close(w.quit)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queue, w.gone
}
