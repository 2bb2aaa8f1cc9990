package workflow

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// CheckpointSink keeps signed checkpoints outside the database (a file or
// directory an operator ships elsewhere). Write is called from one
// goroutine at a time.
type CheckpointSink interface {
	Write(audit.SignedCheckpoint) error
}

// Checkpointer signs checkpoints of the audit chain's head with the audit
// key, at the CA's interval (Tick) and when an auditor asks (SignNow), hands
// each to its sink and keeps the newest for GET /v1/audit/checkpoint. Each
// CA replica has its own; their checkpoints are all signed by the one
// audit key.
type Checkpointer struct {
	svc  *Service
	key  ssh.Signer
	sink CheckpointSink

	mu     sync.Mutex // serialises publish, so the sink sees one Write at a time
	latest *audit.SignedCheckpoint
}

// NewCheckpointer makes a Checkpointer signing with key, which must be none
// of the CA keys. sink may be nil: checkpoints are then only served.
func (s *Service) NewCheckpointer(key ssh.Signer, sink CheckpointSink) (*Checkpointer, error) {
	if key == nil {
		return nil, errors.New("workflow: no audit key")
	}
	keys := s.keys.Load()
	for _, ca := range append(append(keys.UserKeys(), keys.HopKeys()...), keys.HostKeys()...) {
		if string(key.PublicKey().Marshal()) == string(ca.Marshal()) {
			return nil, errors.New("workflow: the audit key must not be one of the CA keys")
		}
	}
	return &Checkpointer{svc: s, key: key, sink: sink}, nil
}

// Latest returns the newest checkpoint this CA signed, or nil before the
// first.
func (c *Checkpointer) Latest() *audit.SignedCheckpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest
}

// Tick signs a checkpoint of the current head, unless the newest one
// already states that head (an idle log gets no new checkpoints). It
// returns the new checkpoint, or nil. Periodic checkpoints are not audited:
// each would move the head it states.
func (c *Checkpointer) Tick(ctx context.Context) (*audit.SignedCheckpoint, error) {
	s := c.svc
	var seq int64
	var hash []byte
	if err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		seq, hash, err = tx.AuditHead()
		return err
	}); err != nil {
		return nil, fmt.Errorf("reading the audit head for a checkpoint: %w", err)
	}
	if hash == nil {
		hash = audit.Genesis
	}
	if l := c.Latest(); l != nil && l.Seq == seq && bytes.Equal(l.Hash, hash) {
		return nil, nil
	}
	cp, err := audit.NewCheckpoint(seq, hash, s.now())
	if err != nil {
		return nil, err
	}
	sc, err := audit.SignCheckpoint(cp, c.key, s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	return &sc, c.publish(sc)
}

// SignNow signs a checkpoint of the head at once, for an auditor, and
// audits it as checkpoint.signed (the row comes after the head it
// states). Anyone else is refused, audited as checkpoint.refused.
func (c *Checkpointer) SignNow(ctx context.Context, actor Actor) (*audit.SignedCheckpoint, error) {
	s := c.svc
	if !actor.IsUser() || !s.policy().IsAuditor(actor.User()) {
		return nil, s.update(ctx, func(tx store.Tx) error {
			return s.refuse(tx, actor, "checkpoint.refused", "audit-log",
				fmt.Errorf("%w: signing audit checkpoints is for auditors", ErrForbidden), nil)
		})
	}
	var sc audit.SignedCheckpoint
	err := s.update(ctx, func(tx store.Tx) error {
		seq, hash, err := tx.AuditHead()
		if err != nil {
			return err
		}
		if hash == nil {
			hash = audit.Genesis
		}
		now := s.now()
		cp, err := audit.NewCheckpoint(seq, hash, now)
		if err != nil {
			return err
		}
		// Signing is pure, so running this again after a failed batch
		// does no harm.
		if sc, err = audit.SignCheckpoint(cp, c.key, s.cfg.Rand); err != nil {
			return err
		}
		return record(tx, audit.Event{Time: now, Actor: string(actor), Action: "checkpoint.signed", Subject: "audit-log",
			Detail: map[string]any{"seq": seq, "hash": hex.EncodeToString(hash), "key": ssh.FingerprintSHA256(c.key.PublicKey())}})
	})
	if err != nil {
		return nil, err
	}
	return &sc, c.publish(sc)
}

// publish keeps sc as the latest unless a newer one is kept already, and
// hands it to the sink.
func (c *Checkpointer) publish(sc audit.SignedCheckpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.latest; l == nil || sc.Seq > l.Seq || (sc.Seq == l.Seq && !sc.Time.Before(l.Time)) {
		c.latest = &sc
	}
	if c.sink == nil {
		return nil
	}
	if err := c.sink.Write(sc); err != nil {
		return fmt.Errorf("keeping the audit checkpoint of %s: %w", sc.Checkpoint, err)
	}
	return nil
}
