package store

import "time"

// What the organisation's directory says about people: the users and
// groups a directory pushes over SCIM, and the directory groups each
// person is in, as SCIM pushes or an OIDC sign-in tells them. None of it
// is policy: policy groups bound to a directory group (idp_group) take
// their extra members from DirectoryMemberships.

// DirectoryUser is a person as the directory provisioned them (a SCIM
// User resource). It maps to the policy user named UserName.
type DirectoryUser struct {
	// ID is the CA's identifier of the resource, chosen at creation.
	ID string
	// UserName is unique, compared case-insensitively: the store keeps
	// it lowercased (policy user names are lowercase).
	UserName    string
	ExternalID  string
	DisplayName string
	// Active false: the person is disabled in the directory, and
	// refused everything while so.
	Active bool
	// Deleted: the directory deleted the person. The row stays as a
	// tombstone (inactive, invisible to SCIM) so that the person stays
	// refused until the directory creates them again.
	Deleted  bool
	Created  time.Time
	Modified time.Time
	// Version counts changes, for SCIM's ETag.
	Version int64
}

// DirectoryGroup is a group as the directory provisioned it (a SCIM Group
// resource). Its DisplayName is unique, compared case-insensitively; a
// policy group binds to it by that name (or ExternalID).
type DirectoryGroup struct {
	ID          string
	DisplayName string
	ExternalID  string
	// Members are DirectoryUser IDs, sorted, without repeats.
	Members  []string
	Created  time.Time
	Modified time.Time
	Version  int64
}

// Sources of directory memberships.
const (
	SourceSCIM = "scim"
	SourceOIDC = "oidc"
)

// DirectoryMembership says that policy user User is in the directory
// group Group (the name a policy group's idp_group binds to), as Source
// last said at At. One record for both sources: SCIM pushes write their
// rows in the transaction of the push, an OIDC sign-in writes the groups
// of its ID token.
type DirectoryMembership struct {
	User   string
	Group  string
	Source string
	At     time.Time
}

// DirectoryTx is what a transaction can do with directory records.
type DirectoryTx interface {
	// PutDirectoryUser creates or replaces the user with u.ID;
	// ErrDuplicate if another user has u.UserName.
	PutDirectoryUser(u *DirectoryUser) error
	// DirectoryUser returns the user with id, DirectoryUserByName the one
	// with userName (any case); tombstones too. ErrNotFound if none.
	DirectoryUser(id string) (*DirectoryUser, error)
	DirectoryUserByName(userName string) (*DirectoryUser, error)
	// DirectoryUsers lists users that are not deleted, by ID, skipping
	// offset of them, at most limit; total counts them all.
	DirectoryUsers(offset, limit int) (users []*DirectoryUser, total int, err error)
	// DeleteDirectoryUser removes the row (no tombstone).
	DeleteDirectoryUser(id string) error

	// PutDirectoryGroup creates or replaces the group with g.ID and its
	// members; ErrDuplicate if another group has g.DisplayName.
	PutDirectoryGroup(g *DirectoryGroup) error
	DirectoryGroup(id string) (*DirectoryGroup, error)
	DirectoryGroupByName(displayName string) (*DirectoryGroup, error)
	DirectoryGroups(offset, limit int) (groups []*DirectoryGroup, total int, err error)
	// GroupsWithMember returns the groups userID is a member of, by ID.
	GroupsWithMember(userID string) ([]*DirectoryGroup, error)
	DeleteDirectoryGroup(id string) error

	// SetDirectoryMemberships replaces user's memberships from source
	// with groups, all recorded at at.
	SetDirectoryMemberships(user, source string, groups []string, at time.Time) error
	// DirectoryMemberships returns every membership, by user, group and
	// source.
	DirectoryMemberships() ([]DirectoryMembership, error)
}
