package sqlstore

import (
	"fmt"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

func (t *tx) AddNotice(key string, at time.Time) error {
	if _, err := t.exec(`INSERT INTO notices (notice_key, at_us) VALUES (?, ?)`, key, us(at)); err != nil {
		return fmt.Errorf("recording notice %s: %w", key, err)
	}
	return nil
}

// Usage aggregates in SQL per requested set of resources, and splits the
// sets here: a request's resources are stored as one list.
func (t *tx) Usage() ([]store.Usage, error) {
	type key struct{ user, role, resource string }
	got := map[key]*store.Usage{}
	var order []key
	row := func(k key) *store.Usage {
		u := got[k]
		if u == nil {
			u = &store.Usage{User: k.user, Role: k.role, Resource: k.resource}
			got[k] = u
			order = append(order, k)
		}
		return u
	}
	rows, err := t.q.QueryContext(t.ctx, `SELECT requester, role, resources, MAX(created_us) FROM requests
		WHERE state <> 'rejected' GROUP BY requester, role, resources`)
	if err != nil {
		return nil, fmt.Errorf("reading when access was last requested: %w", err)
	}
	for rows.Next() {
		var user, role, list string
		var last int64
		if err := rows.Scan(&user, &role, &list, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading when access was last requested: %w", err)
		}
		resources, err := unmarshalList(list)
		if err != nil {
			rows.Close()
			return nil, err
		}
		for _, res := range resources {
			if u := row(key{user, role, res}); fromUS(last).After(u.LastRequested) {
				u.LastRequested = fromUS(last)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading when access was last requested: %w", err)
	}
	rows, err = t.q.QueryContext(t.ctx, `SELECT requester, role, resource, MAX(started_us) FROM sessions GROUP BY requester, role, resource`)
	if err != nil {
		return nil, fmt.Errorf("reading when access was last used: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		var last int64
		if err := rows.Scan(&k.user, &k.role, &k.resource, &last); err != nil {
			return nil, fmt.Errorf("reading when access was last used: %w", err)
		}
		row(k).LastUsed = fromUS(last)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading when access was last used: %w", err)
	}
	out := make([]store.Usage, len(order))
	for i, k := range order {
		out[i] = *got[k]
	}
	return out, nil
}

func (t *tx) PutReviewDecision(d store.ReviewDecision) error {
	if _, err := t.exec(`DELETE FROM review_decisions WHERE username = ? AND team = ?`, d.User, d.Team); err != nil {
		return fmt.Errorf("replacing the review decision on %s in %s: %w", d.User, d.Team, err)
	}
	if _, err := t.exec(`INSERT INTO review_decisions (username, team, decision, reason, reviewer, at_us) VALUES (?, ?, ?, ?, ?, ?)`,
		d.User, d.Team, d.Decision, d.Reason, d.Reviewer, us(d.At)); err != nil {
		return fmt.Errorf("storing the review decision on %s in %s: %w", d.User, d.Team, err)
	}
	return nil
}

func (t *tx) ReviewDecisions() ([]store.ReviewDecision, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT username, team, decision, reason, reviewer, at_us FROM review_decisions ORDER BY team, username`)
	if err != nil {
		return nil, fmt.Errorf("reading review decisions: %w", err)
	}
	defer rows.Close()
	var out []store.ReviewDecision
	for rows.Next() {
		var d store.ReviewDecision
		var at int64
		if err := rows.Scan(&d.User, &d.Team, &d.Decision, &d.Reason, &d.Reviewer, &at); err != nil {
			return nil, fmt.Errorf("reading review decisions: %w", err)
		}
		d.At = fromUS(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading review decisions: %w", err)
	}
	return out, nil
}
