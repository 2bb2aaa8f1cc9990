package sqlstore

import (
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// The audit log is append-only: rows are only ever inserted. The head row
// in audit_head moves with a conditional update, so that two writers (two
// CA replicas on one MySQL) can never both extend the chain from the same
// row; in MySQL AuditHead locks it until the transaction ends.

func (t *tx) AuditHead() (int64, []byte, error) {
	if t.held != nil {
		return t.heldHead()
	}
	return t.readAuditHead()
}

// heldHead is the head as it stands in a transaction with deferred
// appends, read from the database the first time.
func (t *tx) heldHead() (int64, []byte, error) {
	if err := t.held.ensureLocked(); err != nil {
		t.broken = err
		return 0, nil, err
	}
	if !t.held.headKnown {
		seq, hash, err := t.readAuditHead()
		if err != nil {
			return 0, nil, err
		}
		t.held.knowHead(seq, hash)
	}
	return t.held.seq, t.held.hash, nil
}

func (t *tx) readAuditHead() (int64, []byte, error) {
	suffix := ""
	if !t.readOnly {
		suffix = t.d.forUpdate()
	}
	var seq int64
	var hash []byte
	if err := t.q.QueryRowContext(t.ctx, qAuditHead+suffix).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("reading the audit head: %w", err)
	}
	if len(hash) == 0 {
		hash = nil
	}
	return seq, hash, nil
}

func (t *tx) AppendAudit(r store.AuditRecord) error {
	if t.held != nil {
		return t.holdAudit(r)
	}
	if _, err := t.exec(qInsertAudit,
		r.Seq, us(r.Time), r.Actor, r.Action, r.Subject, string(r.Detail), r.PrevHash, r.Hash); err != nil {
		return fmt.Errorf("appending audit row %d: %w", r.Seq, err)
	}
	res, err := t.exec(qMoveAuditHead, r.Seq, r.Hash, r.Seq-1)
	if err != nil {
		return fmt.Errorf("moving the audit head to %d: %w", r.Seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("audit row %d does not follow the head: %w", r.Seq, store.ErrConflict)
	}
	return nil
}

// holdAudit keeps r for the end of the batch, if it follows the head as
// it stands in the transaction.
func (t *tx) holdAudit(r store.AuditRecord) error {
	seq, _, err := t.heldHead()
	if err != nil {
		return err
	}
	if r.Seq != seq+1 {
		return fmt.Errorf("audit row %d does not follow the head: %w", r.Seq, store.ErrConflict)
	}
	if err := t.held.hold(auditTable, r.Seq, us(r.Time), r.Actor, r.Action, r.Subject, string(r.Detail), r.PrevHash, r.Hash); err != nil {
		return fmt.Errorf("appending audit row %d: %w", r.Seq, err)
	}
	t.held.seq, t.held.hash = r.Seq, r.Hash
	return nil
}

func (t *tx) Audit(after int64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := t.q.QueryContext(t.ctx, `SELECT seq, at_us, actor, action, subject, detail, prev_hash, hash
		FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		var detail string
		if err := rows.Scan(&r.Seq, &at, &r.Actor, &r.Action, &r.Subject, &detail, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		r.Time, r.Detail = fromUS(at), []byte(detail)
		out = append(out, r)
	}
	return out, rows.Err()
}
