-- What the organisation's directory says about people: users and groups
-- pushed over SCIM (user names lowercased; group names unique in any
-- case through name_key), group members, and the directory groups each
-- policy user is in, by source (scim pushes, oidc sign-ins).
CREATE TABLE IF NOT EXISTS directory_users (
	id TEXT PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	external_id TEXT NOT NULL,
	display_name TEXT NOT NULL,
	active INTEGER NOT NULL,
	deleted INTEGER NOT NULL,
	created_us INTEGER NOT NULL,
	modified_us INTEGER NOT NULL,
	version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS directory_groups (
	id TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	name_key TEXT NOT NULL UNIQUE,
	external_id TEXT NOT NULL,
	created_us INTEGER NOT NULL,
	modified_us INTEGER NOT NULL,
	version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS directory_group_members (
	group_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS directory_group_members_by_user ON directory_group_members (user_id);
CREATE TABLE IF NOT EXISTS directory_memberships (
	username TEXT NOT NULL,
	idp_group TEXT NOT NULL,
	source TEXT NOT NULL,
	at_us INTEGER NOT NULL,
	PRIMARY KEY (username, source, idp_group)
);
