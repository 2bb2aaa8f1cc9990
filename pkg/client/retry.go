package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Every state-changing call (POST) carries an Idempotency-Key, which its
// signature covers. The CA keeps the answer to a keyed call with the
// change it made, so the same call sent again with the same key gets the
// first answer instead of a second change. That makes it safe to send a
// call again whose outcome is unknown: no answer came (the connection
// failed after it was sent), or the CA answered 503 outcome_unknown.

// Retry says how often a state-changing call is sent again, with the
// same key, when its outcome is unknown or the CA answered that nothing
// was changed (503 unavailable). The zero value sends each call once.
type Retry struct {
	Attempts int           // in all, the first included
	Wait     time.Duration // before the second attempt; doubled after each
	MaxWait  time.Duration // the longest wait between attempts (0: no limit)
}

// DefaultRetry is what the lockbox CLI uses: about 20 seconds of trying.
var DefaultRetry = Retry{Attempts: 6, Wait: 500 * time.Millisecond, MaxWait: 5 * time.Second}

// OutcomeUnknownError: a state-changing call was sent, every attempt
// ended without a definite answer, and whether it took effect is unknown.
// Sending it again with Key (see SetIdempotencyKeys) learns the outcome.
type OutcomeUnknownError struct {
	Key string
	Err error // the last attempt's
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("the outcome is unknown (no definite answer from the CA; idempotency key %s): %v", e.Key, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// SetRetry sets how state-changing calls are sent again.
func (c *Client) SetRetry(r Retry) { c.retry = r }

// SetIdempotencyKeys names this client's state-changing calls base,
// base.2, base.3, ... in the order they are made, so that a program run
// again with the same base sends the same calls under the same keys. By
// default each call gets a random key. base must be 16 to 64 letters,
// digits, '.', '_' or '-'.
func (c *Client) SetIdempotencyKeys(base string) {
	c.keys.mu.Lock()
	defer c.keys.mu.Unlock()
	c.keys.base, c.keys.n = base, 0
}

// NewIdempotencyKey returns a random key.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}

type keySource struct {
	mu   sync.Mutex
	base string
	n    int
}

func (k *keySource) next() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.base == "" {
		return NewIdempotencyKey()
	}
	k.n++
	if k.n == 1 {
		return k.base
	}
	return k.base + "." + strconv.Itoa(k.n)
}

// unsure reports whether err leaves a call's outcome unknown, and whether
// the call may be sent again at all.
func unsure(err error) (unknown, again bool) {
	var e *Error
	if !errors.As(err, &e) {
		var se *sendError
		return errors.As(err, &se), errors.As(err, &se)
	}
	switch {
	case e.Code == "outcome_unknown", e.Code == "idempotency_key_in_use":
		return true, true
	case e.Code == "unavailable":
		return false, true
	}
	return false, false
}

// sendError: the request may have reached the CA, but no answer came.
type sendError struct{ err error }

func (e *sendError) Error() string { return "reaching the CA: " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// withRetry sends a state-changing call under one key until it has a
// definite answer or the attempts run out. attempt must build and sign
// a fresh request each time (the CA refuses a reused nonce).
func (c *Client) withRetry(ctx context.Context, attempt func(key string) error) error {
	key := c.keys.next()
	if c.retry.Attempts <= 1 {
		return attempt(key)
	}
	wait := c.retry.Wait
	for n := 1; ; n++ {
		err := attempt(key)
		unknown, again := unsure(err)
		if err == nil || !again || n >= c.retry.Attempts {
			if unknown {
				return &OutcomeUnknownError{Key: key, Err: err}
			}
			return err
		}
		select {
		case <-ctx.Done():
			if unknown {
				return &OutcomeUnknownError{Key: key, Err: err}
			}
			return err
		case <-time.After(wait):
		}
		wait *= 2
		if c.retry.MaxWait > 0 && wait > c.retry.MaxWait {
			wait = c.retry.MaxWait
		}
	}
}

// stateChanging reports whether a call changes state and so is keyed.
func stateChanging(method string) bool { return method == http.MethodPost }
