package workflow

import (
	"context"
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Notifications is what the outbox holds, for operators and auditors:
// how many messages are in each state, and the messages asked for.
type Notifications struct {
	Counts   map[store.OutboxState]int
	Messages []*store.OutboxMessage
}

// maxNotifications bounds one listing.
const maxNotifications = 1000

// Notifications lists the outbox's waiting messages (queued, not yet
// delivered), or with dead its dead ones, newest first; auditors only.
// The rows' bodies are left out: the list says what waits or failed, and
// the audit log and the request pages say the rest.
func (s *Service) Notifications(ctx context.Context, actor Actor, dead bool) (*Notifications, error) {
	if !actor.IsUser() || !s.policy().IsAuditor(actor.User()) {
		return nil, fmt.Errorf("%w: the notification outbox is for auditors", ErrForbidden)
	}
	state := store.OutboxQueued
	if dead {
		state = store.OutboxDead
	}
	var out Notifications
	err := s.cfg.Store.View(ctx, func(tx store.Tx) (err error) {
		if out.Counts, err = tx.CountOutbox(); err != nil {
			return err
		}
		out.Messages, err = tx.OutboxMessages(store.OutboxFilter{States: []store.OutboxState{state}, Limit: maxNotifications})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, m := range out.Messages {
		m.Body = nil
	}
	return &out, nil
}
