// Package hooktest is a webhook receiver for tests: it checks every
// delivery's Lockbox-Signature with the endpoint's secret, as a real
// receiver must, records what arrived (once per idempotency key, and
// every attempt), and can be told to answer with an error status, or to
// stop listening and start again on the same port.
package hooktest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/render"
)

// Secret is the signing secret tests configure the endpoint with.
const Secret = "hooktest-signing-secret-0123456789"

// Attempt is one delivery that reached the receiver.
type Attempt struct {
	Key    string
	Event  string
	At     time.Time
	Status int // what the receiver answered
}

// Receiver is a running webhook receiver.
type Receiver struct {
	t    testing.TB
	addr string

	mu       sync.Mutex
	status   int // answered to valid deliveries; 0: 204
	attempts []Attempt
	first    map[string]time.Time // key → first accepted delivery
	bodies   map[string]render.WebhookBody
	repeats  int // accepted deliveries of a key accepted before
	bad      int // deliveries refused for their signature
	srv      *http.Server
	changed  chan struct{}
	hold     chan struct{} // while set, accepted deliveries get no answer until it closes
}

// Start listens on a random port of 127.0.0.1. It stops with the test.
func Start(t testing.TB) *Receiver {
	r := &Receiver{t: t, first: map[string]time.Time{}, bodies: map[string]render.WebhookBody{}, changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.Stop)
	return r
}

// URL is the endpoint's address.
func (r *Receiver) URL() string { return "http://" + r.addr + "/hook" }

func (r *Receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// Stop closes the listener and every connection: the receiver is down.
func (r *Receiver) Stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Restart listens again on the same port.
func (r *Receiver) Restart() {
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", r.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the port is freed by the kernel, not by an event we can wait on
	}
	if err != nil {
		r.t.Fatalf("hooktest: listening again on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

// Answer makes the receiver answer valid deliveries with status (0: 204
// No Content, accepted).
func (r *Receiver) Answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// Hold makes the receiver accept deliveries (counting them) but answer
// none until Release: the sender waits for an answer that is not coming,
// as when it dies between a delivery and its record.
func (r *Receiver) Hold() {
	r.mu.Lock()
	if r.hold == nil {
		r.hold = make(chan struct{})
	}
	r.mu.Unlock()
}

// Release answers the deliveries held, and stops holding.
func (r *Receiver) Release() {
	r.mu.Lock()
	if r.hold != nil {
		close(r.hold)
		r.hold = nil
	}
	r.mu.Unlock()
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	now := time.Now()
	key := req.Header.Get(notify.IdempotencyHeader)
	if err := notify.Verify([]byte(Secret), req.Header.Get(notify.SignatureHeader), body, now, 5*time.Minute); err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b render.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil || b.ID != key || key == "" {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "body and key differ", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	status := r.status
	if status == 0 {
		status = http.StatusNoContent
	}
	r.attempts = append(r.attempts, Attempt{Key: key, Event: string(b.Event), At: now, Status: status})
	if status < 300 {
		if _, seen := r.first[key]; seen {
			r.repeats++
		} else {
			r.first[key], r.bodies[key] = now, b
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
}

// Keys returns, for every key accepted, when it was first accepted.
func (r *Receiver) Keys() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]time.Time, len(r.first))
	for k, v := range r.first {
		out[k] = v
	}
	return out
}

// Body returns the first accepted body of key.
func (r *Receiver) Body(key string) (render.WebhookBody, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.bodies[key]
	return b, ok
}

// Attempts returns every delivery that passed the signature check.
func (r *Receiver) Attempts() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

// Repeats counts accepted deliveries of keys accepted before: at least
// once delivery may repeat; receivers drop these by key.
func (r *Receiver) Repeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repeats
}

// BadSignatures counts deliveries refused for their signature or body.
func (r *Receiver) BadSignatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}

// WaitFor waits until cond holds, checking after every delivery, until
// the deadline; it reports whether cond held.
func (r *Receiver) WaitFor(ctx context.Context, timeout time.Duration, cond func(*Receiver) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if cond(r) {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return cond(r)
		}
	}
}

// ErrNotReceived is returned by WaitKeys when keys did not all arrive.
var ErrNotReceived = errors.New("hooktest: not every key arrived")

// WaitKeys waits until n distinct keys were accepted.
func (r *Receiver) WaitKeys(ctx context.Context, timeout time.Duration, n int) error {
	if r.WaitFor(ctx, timeout, func(r *Receiver) bool { return len(r.Keys()) >= n }) {
		return nil
	}
	return ErrNotReceived
}
