package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// ActionDead is the audit action of a notification given up.
const ActionDead = "notification.dead"

// dead audits row, just marked dead in tx, and queues the message.dead
// notice the router picks for it. A dead notice is not itself noticed:
// the audit row and the operators' list show it.
func (l *Loop) dead(tx store.Tx, row *store.OutboxMessage, now time.Time) error {
	err := appendAudit(tx, audit.Event{Time: now, Actor: "system", Action: ActionDead, Subject: row.Key,
		Detail: map[string]any{"endpoint": row.Endpoint, "event": row.Kind, "about": row.Subject,
			"attempts": row.Attempts, "last_error": row.LastError}})
	if err != nil {
		return err
	}
	if l.cfg.Router == nil || row.Kind == string(notify.MessageDead) {
		return nil
	}
	m := &notify.Message{Key: notify.NewKey(notify.MessageDead, row.Key, row.Endpoint), Kind: notify.MessageDead, Time: now,
		Dead: &notify.Dead{Key: row.Key, Kind: notify.Kind(row.Kind), Channel: row.Endpoint, Attempts: row.Attempts, LastError: row.LastError}}
	for _, t := range l.cfg.Router.Route(m) {
		notice := *m
		notice.To = t.To
		body, err := json.Marshal(&notice)
		if err != nil {
			return fmt.Errorf("encoding notification %s: %w", m.Key, err)
		}
		err = tx.EnqueueOutbox(&store.OutboxMessage{Key: m.Key, Endpoint: t.Endpoint, Kind: string(m.Kind),
			Subject: row.Key, Body: body, CreatedAt: now})
		if err != nil && !errors.Is(err, store.ErrDuplicate) {
			return err
		}
	}
	return nil
}

// appendAudit seals e after the audit log's head and appends it in tx.
func appendAudit(tx store.Tx, e audit.Event) error {
	seq, hash, err := tx.AuditHead()
	if err != nil {
		return err
	}
	if hash == nil {
		hash = audit.Genesis
	}
	r, err := audit.Seal(seq, hash, e)
	if err != nil {
		return err
	}
	return tx.AppendAudit(store.AuditRecord{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action,
		Subject: r.Subject, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash})
}
