package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Kept answers make state-changing calls safe to send again. A caller
// names each call with an idempotency key; the edge puts a Claim for it
// into the call's context, and the transaction that makes the call's
// change (or commits its audited refusal) also stores the answer the
// caller gets, under the caller and the key. A caller who lost that
// answer (a dropped connection, an outcome the CA could not learn) sends
// the call again with the same key and gets the first answer instead of a
// second change or a conflict.

// DefaultAnswerTTL is how long a kept answer can be asked for again, at
// least; the sweeper prunes it after that.
const DefaultAnswerTTL = 24 * time.Hour

// ErrKeyTaken: another call with the same idempotency key committed
// first; its answer is the one to give.
var ErrKeyTaken = errors.New("the idempotency key was used by a call that finished first")

// Claim asks for the answer of one call to be kept. The edge fills the
// exported fields; the workflow fills the rest.
type Claim struct {
	Actor       Actor // the caller, as authenticated
	Key         string
	Fingerprint []byte // identifies the call, so a key reused for another call can be refused
	// Render turns the call's result (what the workflow method returns)
	// or its refusal into the answer the caller gets. It runs inside the
	// transaction, so it must be quick and do no I/O; an error fails the
	// call and undoes its changes.
	Render func(result any, refusal error) (status int, body []byte, err error)

	result any         // set by the method, inside its transaction
	kept   *KeptAnswer // once the transaction that kept it has committed
	pre    *prepared   // the answer to result pre.result (prepareAnswer)
}

// prepared is an answer rendered and sealed before the call's
// transaction, for the result the method expects to set in it.
type prepared struct {
	result       any
	status       int
	body, sealed []byte
}

// KeptAnswer is an answer as it was first given.
type KeptAnswer struct {
	Fingerprint []byte
	Status      int
	Body        []byte
}

type claimKey struct{}

// WithClaim returns ctx carrying c for the workflow call made with it.
func WithClaim(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

func claimOf(ctx context.Context) *Claim {
	c, _ := ctx.Value(claimKey{}).(*Claim)
	return c
}

// AnswerKept reports whether the call ctx carries has its answer kept
// already (rendered in the transaction that kept it).
func AnswerKept(ctx context.Context) bool {
	c := claimOf(ctx)
	return c != nil && c.kept != nil
}

// Kept returns the answer kept for the call, or nil if the call committed
// nothing under its key.
func (c *Claim) Kept() *KeptAnswer { return c.kept }

// setResult records, inside the call's transaction, what the call will
// return, for its claim (if any) to render.
func setResult(ctx context.Context, v any) {
	if c := claimOf(ctx); c != nil {
		c.result = v
	}
}

// wantsResult reports whether the call's result will be kept, for results
// that cost a query to build.
func wantsResult(ctx context.Context) bool { return claimOf(ctx) != nil }

// prepareAnswer renders and seals, before the call's transaction (and so
// outside the store's writer), the answer its claim (if any) keeps if the
// transaction sets result v (setResult) and refuses nothing; keepAnswer
// renders any other outcome in the transaction as before. v must be a
// pointer: keepAnswer compares it with the result set.
func (s *Service) prepareAnswer(ctx context.Context, v any) error {
	c := claimOf(ctx)
	if c == nil || c.kept != nil {
		return nil
	}
	status, body, err := c.Render(v, nil)
	if err != nil {
		return fmt.Errorf("rendering the answer to keep: %w", err)
	}
	c.pre = &prepared{result: v, status: status, body: body, sealed: s.cfg.Secrets.Seal(body, answerAD(c.Actor, c.Key))}
	return nil
}

// keepAnswer stores the claim's answer in tx; ErrKeyTaken if the key is
// taken, which undoes the call's changes.
func (s *Service) keepAnswer(tx store.Tx, c *Claim, refused error) (*KeptAnswer, error) {
	actor := c.Actor
	var status int
	var body, sealed []byte
	if p := c.pre; p != nil && refused == nil && p.result == c.result {
		status, body, sealed = p.status, p.body, p.sealed
	} else {
		var err error
		if status, body, err = c.Render(c.result, refused); err != nil {
			return nil, fmt.Errorf("rendering the answer to keep: %w", err)
		}
		sealed = s.cfg.Secrets.Seal(body, answerAD(actor, c.Key))
	}
	now := s.now()
	err := tx.KeepAnswer(&store.Answer{Principal: string(actor), Key: c.Key, Fingerprint: c.Fingerprint, Status: status,
		Body: sealed, Created: now, Expires: now.Add(s.cfg.AnswerTTL)})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, ErrKeyTaken
	}
	if err != nil {
		return nil, err
	}
	return &KeptAnswer{Fingerprint: c.Fingerprint, Status: status, Body: body}, nil
}

func answerAD(actor Actor, key string) []byte {
	return []byte("lockbox-answer:" + string(actor) + "\n" + key)
}

// Answered returns the answer kept under actor's key, or nil if there is
// none. An answer stays until the sweeper prunes it, some time after
// AnswerTTL.
func (s *Service) Answered(ctx context.Context, actor Actor, key string) (*KeptAnswer, error) {
	var a *store.Answer
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) { a, err = tx.Answer(string(actor), key); return err })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.openAnswer(actor, key, a)
}

// Admit is CheckActive and then Answered, as one statement (store
// Admission, outside a transaction where the store can: viewEach): it
// refuses (and audits) a person the directory deactivated, and otherwise
// returns the answer kept under actor's key, or nil if there is none.
func (s *Service) Admit(ctx context.Context, actor Actor, key string) (*KeptAnswer, error) {
	var user string
	if actor.IsUser() {
		user = actor.User()
	}
	var disabled bool
	var a *store.Answer
	err := s.viewEach(ctx, func(tx store.Tx) (err error) {
		disabled, a, err = tx.Admission(user, string(actor), key)
		return err
	})
	if err != nil {
		return nil, err
	}
	if disabled {
		return nil, s.RecordRefusal(ctx, actor, "auth.refused", user, errDeactivated(user))
	}
	if a == nil {
		return nil, nil
	}
	return s.openAnswer(actor, key, a)
}

// eachViewer is a store that can run reads outside a transaction
// (sqlstore ViewEach).
type eachViewer interface {
	ViewEach(ctx context.Context, fn func(store.Tx) error) error
}

// viewEach runs fn's reads each on its own if the store can, in one read
// transaction otherwise. For a single read (Admit, CheckActive), or reads
// that do not depend on each other.
func (s *Service) viewEach(ctx context.Context, fn func(store.Tx) error) error {
	if v, ok := s.cfg.Store.(eachViewer); ok {
		return v.ViewEach(ctx, fn)
	}
	return s.cfg.Store.View(ctx, fn)
}

// openAnswer opens a kept answer as stored.
func (s *Service) openAnswer(actor Actor, key string, a *store.Answer) (*KeptAnswer, error) {
	body, err := s.cfg.Secrets.Open(a.Body, answerAD(actor, key))
	if err != nil {
		return nil, fmt.Errorf("opening the answer kept for %s: %w", actor, err)
	}
	return &KeptAnswer{Fingerprint: a.Fingerprint, Status: a.Status, Body: body}, nil
}
