package workflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// A signed call's nonce may be spent in the call's own write transaction
// instead of one of its own before the call runs: the edge checks the
// signature, puts a Nonce into the call's context, and the first
// transaction of the call that commits (update) records it beside the
// call's change, so the call waits for one commit, not two. A replayed
// nonce fails that transaction, which then changes nothing, and the call
// gets ErrReplay. Whatever the call does, the edge spends the nonce
// (Spend) before it answers, if no transaction of the call has: a call
// that writes nothing, or whose write failed, still cannot be replayed,
// and nothing a replay read is shown to its sender.

// ErrReplay: the call's nonce was spent already, by an earlier call.
var ErrReplay = errors.New("the call's nonce was spent already")

// Nonce is a signed call's nonce, not yet recorded.
type Nonce struct {
	Principal, Value string
	Expires          time.Time

	mu    sync.Mutex
	state nonceState
}

type nonceState int

const (
	noncePending  nonceState = iota
	nonceSpent               // recorded by this call
	nonceMaybe               // a commit that recorded it had an unknown outcome
	nonceReplayed            // recorded by another call
)

type nonceKey struct{}

// WithNonce returns ctx carrying n, to be spent by the call's first
// committed write.
func WithNonce(ctx context.Context, n *Nonce) context.Context {
	return context.WithValue(ctx, nonceKey{}, n)
}

// NonceOf returns the nonce ctx carries, or nil.
func NonceOf(ctx context.Context) *Nonce {
	n, _ := ctx.Value(nonceKey{}).(*Nonce)
	return n
}

// pending reports whether n is to be recorded by the next transaction.
func (n *Nonce) pending() bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state == noncePending
}

// use records n in tx; ErrReplay if it was recorded already.
func (n *Nonce) use(tx store.Tx) error {
	err := tx.UseNonce(n.Principal, n.Value, n.Expires)
	if errors.Is(err, store.ErrDuplicate) {
		return errReplayedIn{err}
	}
	return err
}

// errReplayedIn is a duplicate nonce inside a transaction; update turns
// it into ErrReplay.
type errReplayedIn struct{ cause error }

func (e errReplayedIn) Error() string { return fmt.Sprintf("%v: %v", ErrReplay, e.cause) }
func (e errReplayedIn) Unwrap() error { return e.cause }

// settle records the outcome of a transaction that recorded n.
func (n *Nonce) settle(err error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var dup errReplayedIn
	switch {
	case err == nil:
		n.state = nonceSpent
	case errors.As(err, &dup):
		n.state = nonceReplayed
		return ErrReplay
	case errors.Is(err, store.ErrOutcomeUnknown):
		n.state = nonceMaybe
	}
	return err
}

// Spend makes sure n is recorded before the call answers: it records n
// in a transaction of its own unless a committed transaction of the call
// did. It returns ErrReplay if the nonce was spent by another call (the
// call must then be refused as a replay), or the store's error.
func (s *Service) Spend(ctx context.Context, n *Nonce) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch n.state {
	case nonceSpent:
		return nil
	case nonceReplayed:
		return ErrReplay
	}
	err := s.cfg.Store.Update(ctx, func(tx store.Tx) error { return tx.UseNonce(n.Principal, n.Value, n.Expires) })
	switch {
	case err == nil:
	case errors.Is(err, store.ErrDuplicate) && n.state == nonceMaybe:
		// The commit of unknown outcome recorded it.
	case errors.Is(err, store.ErrDuplicate):
		n.state = nonceReplayed
		return ErrReplay
	default:
		return err
	}
	n.state = nonceSpent
	return nil
}
