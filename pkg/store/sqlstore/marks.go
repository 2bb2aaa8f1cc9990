package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Commit marks: when the connection drops while a COMMIT is on its way,
// the database may or may not have committed. Every write transaction
// therefore also sets a fresh token in its writer's row of commit_marks;
// after a failed commit the writer reads the row back once the database
// answers: its token there means the batch committed, another token means
// it did not. On MySQL the read locks the row, so it waits while the lost
// transaction is still open on the server (rolled back when the server
// notices the dropped connection) instead of reading around it.
var (
	qSetMark    = `UPDATE commit_marks SET token = ?, at_us = ? WHERE writer = ?`
	qReadMark   = `SELECT token FROM commit_marks WHERE writer = ?`
	qAddWriter  = `INSERT INTO commit_marks (writer, token, at_us) VALUES (?, '', ?)`
	qOldWriters = `DELETE FROM commit_marks WHERE at_us < ?`
)

// errCommitLost: a commit failed and its mark shows it did not take
// place, so the transaction may run again.
var errCommitLost = errors.New("the commit failed and did not take place")

// staleMarks: rows of writers not heard of for this long belong to CA
// processes that are gone.
const staleMarks = 7 * 24 * time.Hour

// newWriters registers n writers of this process in commit_marks.
func (db *DB) newWriters(ctx context.Context, n int) ([]*writer, error) {
	now := time.Now()
	if _, err := db.write.ExecContext(ctx, qOldWriters, us(now.Add(-staleMarks))); err != nil {
		return nil, unavailable(fmt.Errorf("pruning commit marks: %w", err))
	}
	ws := make([]*writer, n)
	for i := range ws {
		token, err := newToken()
		if err != nil {
			return nil, err
		}
		ws[i] = &writer{db: db, id: token}
		if _, err := db.write.ExecContext(ctx, qAddWriter, ws[i].id, us(now)); err != nil {
			return nil, unavailable(fmt.Errorf("registering writer: %w", err))
		}
	}
	return ws, nil
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a commit token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// resolve learns the fate of a batch whose commit failed with commitErr,
// reading the writer's mark back until the latest deadline of the callers
// still waiting for a change of theirs in it.
func (w *writer) resolve(token string, batch []*op, errs []error, commitErr error) (fate, []error, error) {
	var deadline time.Time
	for i, o := range batch {
		if errs[i] == nil && o.deadline.After(deadline) {
			deadline = o.deadline
		}
	}
	query := qReadMark + w.db.d.forUpdate()
	for pause := 20 * time.Millisecond; time.Now().Before(deadline); pause = min(2*pause, 500*time.Millisecond) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		var got string
		err := w.db.read.QueryRowContext(ctx, query, w.id).Scan(&got)
		cancel()
		switch {
		case err == nil && got == token:
			return committed, errs, nil
		case err == nil:
			return notCommitted, nil, unavailable(fmt.Errorf("%w: %w", errCommitLost, commitErr))
		}
		select {
		case <-time.After(pause):
		case <-w.db.quit:
			deadline = time.Time{}
		}
	}
	return unknown, errs, fmt.Errorf("%w: the connection failed during the commit (%v) and the database did not answer since",
		store.ErrOutcomeUnknown, commitErr)
}
