package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func (t *tx) AddLiveChunk(c store.LiveChunk) error {
	if _, err := t.exec(`INSERT INTO live_chunks (session_id, start_off, end_off, data, at_us) VALUES (?, ?, ?, ?, ?)`,
		c.SessionID, c.Offset, c.End(), c.Data, us(c.At)); err != nil {
		return fmt.Errorf("storing live output of %s at %d: %w", c.SessionID, c.Offset, err)
	}
	return nil
}

func (t *tx) LiveChunks(sessionID string, after int64, limit int) ([]store.LiveChunk, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.q.QueryContext(t.ctx, qLiveChunks, sessionID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading live output of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []store.LiveChunk
	for rows.Next() {
		c := store.LiveChunk{SessionID: sessionID}
		var at int64
		if err := rows.Scan(&c.Offset, &c.Data, &at); err != nil {
			return nil, fmt.Errorf("reading live output of %s: %w", sessionID, err)
		}
		c.At = fromUS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading live output of %s: %w", sessionID, err)
	}
	return out, nil
}

func (t *tx) LiveSpans(sessionID string, after int64, limit int) ([]store.LiveSpan, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.q.QueryContext(t.ctx, qLiveSpans, sessionID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading live output of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []store.LiveSpan
	for rows.Next() {
		var start, end int64
		if err := rows.Scan(&start, &end); err != nil {
			return nil, fmt.Errorf("reading live output of %s: %w", sessionID, err)
		}
		out = append(out, store.LiveSpan{Offset: start, Length: end - start})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading live output of %s: %w", sessionID, err)
	}
	return out, nil
}

func (t *tx) PruneLiveChunks(sessionID string, end int64) error {
	if _, err := t.exec(`DELETE FROM live_chunks WHERE session_id = ? AND end_off <= ?`, sessionID, end); err != nil {
		return fmt.Errorf("pruning live output of %s: %w", sessionID, err)
	}
	return nil
}

const liveStateColumns = `session_id, end_off, last_input_us, updated_us, stop_by, stop_reason, stop_us`

// The queries of a watcher's read, prepared on the read pool (every
// waiting watcher makes them once per report).
var (
	qLiveChunks    = `SELECT start_off, data, at_us FROM live_chunks WHERE session_id = ? AND end_off > ? ORDER BY start_off LIMIT ?`
	qLiveSpans     = `SELECT start_off, end_off FROM live_chunks WHERE session_id = ? AND end_off > ? ORDER BY start_off LIMIT ?`
	qLiveState     = `SELECT ` + liveStateColumns + ` FROM live_sessions WHERE session_id = ?`
	qLiveWatch     = `SELECT ` + liveWatchColumns + ` FROM live_watches WHERE id = ?`
	qLiveWatchesOf = `SELECT ` + liveWatchColumns + ` FROM live_watches WHERE session_id = ? ORDER BY started_us, id`
)

func (t *tx) PutLiveState(st *store.LiveState) error {
	if _, err := t.exec(`DELETE FROM live_sessions WHERE session_id = ?`, st.SessionID); err != nil {
		return fmt.Errorf("writing the live state of %s: %w", st.SessionID, err)
	}
	if _, err := t.exec(`INSERT INTO live_sessions (`+liveStateColumns+`) VALUES (`+placeholders(7)+`)`,
		st.SessionID, st.End, us(st.LastInput), us(st.Updated), st.StopBy, st.StopReason, us(st.StopAt)); err != nil {
		return fmt.Errorf("writing the live state of %s: %w", st.SessionID, err)
	}
	return nil
}

func scanLiveState(sc scanner) (*store.LiveState, error) {
	var st store.LiveState
	var last, updated, stop int64
	if err := sc.Scan(&st.SessionID, &st.End, &last, &updated, &st.StopBy, &st.StopReason, &stop); err != nil {
		return nil, err
	}
	st.LastInput, st.Updated, st.StopAt = fromUS(last), fromUS(updated), fromUS(stop)
	return &st, nil
}

func (t *tx) LiveState(sessionID string) (*store.LiveState, error) {
	st, err := scanLiveState(t.q.QueryRowContext(t.ctx, qLiveState, sessionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("live state of %q: %w", sessionID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the live state of %s: %w", sessionID, err)
	}
	return st, nil
}

func (t *tx) LiveStates() ([]*store.LiveState, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT `+liveStateColumns+` FROM live_sessions ORDER BY session_id`)
	if err != nil {
		return nil, fmt.Errorf("reading live sessions: %w", err)
	}
	defer rows.Close()
	var out []*store.LiveState
	for rows.Next() {
		st, err := scanLiveState(rows)
		if err != nil {
			return nil, fmt.Errorf("reading live sessions: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading live sessions: %w", err)
	}
	return out, nil
}

func (t *tx) DeleteStaleLive(before time.Time) error {
	stale := `SELECT session_id FROM live_sessions WHERE updated_us < ?`
	for _, q := range []string{
		`DELETE FROM live_chunks WHERE session_id IN (` + stale + `)`,
		`DELETE FROM live_watches WHERE session_id IN (` + stale + `)`,
		`DELETE FROM live_sessions WHERE updated_us < ?`,
	} {
		if _, err := t.exec(q, us(before)); err != nil {
			return fmt.Errorf("deleting the live state of ended sessions: %w", err)
		}
	}
	return nil
}

const liveWatchColumns = `id, session_id, watcher, via, started_us, seen_us`

func (t *tx) AddLiveWatch(w *store.LiveWatch) error {
	if _, err := t.exec(`INSERT INTO live_watches (`+liveWatchColumns+`) VALUES (`+placeholders(6)+`)`,
		w.ID, w.SessionID, w.Watcher, w.Via, us(w.Started), us(w.Seen)); err != nil {
		return fmt.Errorf("storing watch %s: %w", w.ID, err)
	}
	return nil
}

func scanLiveWatch(sc scanner) (*store.LiveWatch, error) {
	var w store.LiveWatch
	var started, seen int64
	if err := sc.Scan(&w.ID, &w.SessionID, &w.Watcher, &w.Via, &started, &seen); err != nil {
		return nil, err
	}
	w.Started, w.Seen = fromUS(started), fromUS(seen)
	return &w, nil
}

func (t *tx) LiveWatch(id string) (*store.LiveWatch, error) {
	w, err := scanLiveWatch(t.q.QueryRowContext(t.ctx, qLiveWatch, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("watch %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading watch %s: %w", id, err)
	}
	return w, nil
}

func (t *tx) TouchLiveWatch(id string, seen time.Time) error {
	res, err := t.exec(`UPDATE live_watches SET seen_us = ? WHERE id = ?`, us(seen), id)
	if err != nil {
		return fmt.Errorf("recording a read of watch %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("watch %q: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *tx) DeleteLiveWatch(id string) error {
	if _, err := t.exec(`DELETE FROM live_watches WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting watch %s: %w", id, err)
	}
	return nil
}

func (t *tx) LiveWatches(sessionID string) ([]*store.LiveWatch, error) {
	q, args := `SELECT `+liveWatchColumns+` FROM live_watches ORDER BY started_us, id`, []any{}
	if sessionID != "" {
		q, args = qLiveWatchesOf, []any{sessionID}
	}
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading watches: %w", err)
	}
	defer rows.Close()
	var out []*store.LiveWatch
	for rows.Next() {
		w, err := scanLiveWatch(rows)
		if err != nil {
			return nil, fmt.Errorf("reading watches: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading watches: %w", err)
	}
	return out, nil
}
