package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

const directoryUserColumns = `id, username, external_id, display_name, active, deleted, created_us, modified_us, version`

func scanDirectoryUser(sc scanner) (*store.DirectoryUser, error) {
	var u store.DirectoryUser
	var active, deleted int
	var created, modified int64
	if err := sc.Scan(&u.ID, &u.UserName, &u.ExternalID, &u.DisplayName, &active, &deleted, &created, &modified, &u.Version); err != nil {
		return nil, err
	}
	u.Active, u.Deleted = active != 0, deleted != 0
	u.Created, u.Modified = fromUS(created), fromUS(modified)
	return &u, nil
}

// lock makes a read in a write transaction lock its row (MySQL), so that
// two replicas changing one directory entry serialise on it.
func (t *tx) lock() string {
	if t.readOnly {
		return ""
	}
	return t.d.forUpdate()
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *tx) PutDirectoryUser(u *store.DirectoryUser) error {
	name := strings.ToLower(u.UserName)
	if _, err := t.exec(`DELETE FROM directory_users WHERE id = ?`, u.ID); err != nil {
		return fmt.Errorf("replacing directory user %s: %w", u.ID, err)
	}
	_, err := t.exec(`INSERT INTO directory_users (`+directoryUserColumns+`) VALUES (`+placeholders(9)+`)`,
		u.ID, name, u.ExternalID, u.DisplayName, flag(u.Active), flag(u.Deleted), us(u.Created), us(u.Modified), u.Version)
	if err != nil {
		return fmt.Errorf("storing directory user %q: %w", name, err)
	}
	return nil
}

func (t *tx) directoryUser(where, arg string) (*store.DirectoryUser, error) {
	// The same text as qDirectoryUserByName for a read by name, which is
	// prepared.
	u, err := scanDirectoryUser(t.q.QueryRowContext(t.ctx, `SELECT `+directoryUserColumns+` FROM directory_users WHERE `+where+` = ?`+t.lock(), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("directory user %q: %w", arg, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading directory user %q: %w", arg, err)
	}
	return u, nil
}

func (t *tx) DirectoryUser(id string) (*store.DirectoryUser, error) { return t.directoryUser("id", id) }

func (t *tx) DirectoryUserByName(userName string) (*store.DirectoryUser, error) {
	return t.directoryUser("username", strings.ToLower(userName))
}

func (t *tx) DirectoryUsers(offset, limit int) ([]*store.DirectoryUser, int, error) {
	var total int
	if err := t.q.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM directory_users WHERE deleted = 0`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting directory users: %w", err)
	}
	rows, err := t.q.QueryContext(t.ctx, `SELECT `+directoryUserColumns+` FROM directory_users WHERE deleted = 0
		ORDER BY id LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("listing directory users: %w", err)
	}
	defer rows.Close()
	var out []*store.DirectoryUser
	for rows.Next() {
		u, err := scanDirectoryUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing directory users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing directory users: %w", err)
	}
	return out, total, nil
}

func (t *tx) DeleteDirectoryUser(id string) error {
	if _, err := t.exec(`DELETE FROM directory_users WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting directory user %s: %w", id, err)
	}
	return nil
}

const directoryGroupColumns = `id, display_name, external_id, created_us, modified_us, version`

func scanDirectoryGroup(sc scanner) (*store.DirectoryGroup, error) {
	var g store.DirectoryGroup
	var created, modified int64
	if err := sc.Scan(&g.ID, &g.DisplayName, &g.ExternalID, &created, &modified, &g.Version); err != nil {
		return nil, err
	}
	g.Created, g.Modified = fromUS(created), fromUS(modified)
	return &g, nil
}

func (t *tx) PutDirectoryGroup(g *store.DirectoryGroup) error {
	if err := t.DeleteDirectoryGroup(g.ID); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO directory_groups (id, display_name, name_key, external_id, created_us, modified_us, version)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, g.ID, g.DisplayName, strings.ToLower(g.DisplayName), g.ExternalID, us(g.Created), us(g.Modified), g.Version)
	if err != nil {
		return fmt.Errorf("storing directory group %q: %w", g.DisplayName, err)
	}
	for _, m := range g.Members {
		if _, err := t.exec(`INSERT INTO directory_group_members (group_id, user_id) VALUES (?, ?)`, g.ID, m); err != nil {
			return fmt.Errorf("storing a member of directory group %q: %w", g.DisplayName, err)
		}
	}
	return nil
}

// withMembers reads the members of gs.
func (t *tx) withMembers(gs []*store.DirectoryGroup) error {
	for _, g := range gs {
		rows, err := t.q.QueryContext(t.ctx, `SELECT user_id FROM directory_group_members WHERE group_id = ? ORDER BY user_id`, g.ID)
		if err != nil {
			return fmt.Errorf("reading the members of directory group %s: %w", g.ID, err)
		}
		g.Members = nil
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("reading the members of directory group %s: %w", g.ID, err)
			}
			g.Members = append(g.Members, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("reading the members of directory group %s: %w", g.ID, err)
		}
	}
	return nil
}

func (t *tx) directoryGroups(query string, args ...any) ([]*store.DirectoryGroup, error) {
	rows, err := t.q.QueryContext(t.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading directory groups: %w", err)
	}
	var out []*store.DirectoryGroup
	for rows.Next() {
		g, err := scanDirectoryGroup(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading directory groups: %w", err)
		}
		out = append(out, g)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("reading directory groups: %w", err)
	}
	return out, t.withMembers(out)
}

func (t *tx) directoryGroup(where, arg string) (*store.DirectoryGroup, error) {
	gs, err := t.directoryGroups(`SELECT `+directoryGroupColumns+` FROM directory_groups WHERE `+where+` = ?`+t.lock(), arg)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, fmt.Errorf("directory group %q: %w", arg, store.ErrNotFound)
	}
	return gs[0], nil
}

func (t *tx) DirectoryGroup(id string) (*store.DirectoryGroup, error) {
	return t.directoryGroup("id", id)
}

func (t *tx) DirectoryGroupByName(displayName string) (*store.DirectoryGroup, error) {
	return t.directoryGroup("name_key", strings.ToLower(displayName))
}

func (t *tx) DirectoryGroups(offset, limit int) ([]*store.DirectoryGroup, int, error) {
	var total int
	if err := t.q.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM directory_groups`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting directory groups: %w", err)
	}
	gs, err := t.directoryGroups(`SELECT `+directoryGroupColumns+` FROM directory_groups ORDER BY id LIMIT ? OFFSET ?`, limit, offset)
	return gs, total, err
}

func (t *tx) GroupsWithMember(userID string) ([]*store.DirectoryGroup, error) {
	return t.directoryGroups(`SELECT `+directoryGroupColumns+` FROM directory_groups WHERE id IN
		(SELECT group_id FROM directory_group_members WHERE user_id = ?) ORDER BY id`, userID)
}

func (t *tx) DeleteDirectoryGroup(id string) error {
	if _, err := t.exec(`DELETE FROM directory_group_members WHERE group_id = ?`, id); err != nil {
		return fmt.Errorf("deleting the members of directory group %s: %w", id, err)
	}
	if _, err := t.exec(`DELETE FROM directory_groups WHERE id = ?`, id); err != nil {
		return fmt.Errorf("deleting directory group %s: %w", id, err)
	}
	return nil
}

func (t *tx) SetDirectoryMemberships(user, source string, groups []string, at time.Time) error {
	if _, err := t.exec(`DELETE FROM directory_memberships WHERE username = ? AND source = ?`, user, source); err != nil {
		return fmt.Errorf("replacing %s's directory groups from %s: %w", user, source, err)
	}
	for _, g := range groups {
		if _, err := t.exec(`INSERT INTO directory_memberships (username, idp_group, source, at_us) VALUES (?, ?, ?, ?)`,
			user, g, source, us(at)); err != nil {
			return fmt.Errorf("storing %s's directory group %q from %s: %w", user, g, source, err)
		}
	}
	return nil
}

func (t *tx) DirectoryMemberships() ([]store.DirectoryMembership, error) {
	rows, err := t.q.QueryContext(t.ctx, `SELECT username, idp_group, source, at_us FROM directory_memberships
		ORDER BY username, idp_group, source`)
	if err != nil {
		return nil, fmt.Errorf("reading directory memberships: %w", err)
	}
	defer rows.Close()
	var out []store.DirectoryMembership
	for rows.Next() {
		var m store.DirectoryMembership
		var at int64
		if err := rows.Scan(&m.User, &m.Group, &m.Source, &at); err != nil {
			return nil, fmt.Errorf("reading directory memberships: %w", err)
		}
		m.At = fromUS(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading directory memberships: %w", err)
	}
	return out, nil
}
