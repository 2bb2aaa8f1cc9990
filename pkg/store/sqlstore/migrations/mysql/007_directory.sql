-- What the organisation's directory says about people: users and groups
-- pushed over SCIM (user names lowercased; group names unique in any
-- case through name_key), group members, and the directory groups each
-- policy user is in, by source (scim pushes, oidc sign-ins).
CREATE TABLE IF NOT EXISTS directory_users (
	id VARCHAR(64) NOT NULL PRIMARY KEY,
	username VARCHAR(256) NOT NULL,
	external_id VARCHAR(256) NOT NULL,
	display_name VARCHAR(256) NOT NULL,
	active TINYINT NOT NULL,
	deleted TINYINT NOT NULL,
	created_us BIGINT NOT NULL,
	modified_us BIGINT NOT NULL,
	version BIGINT NOT NULL,
	UNIQUE INDEX directory_users_by_name (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS directory_groups (
	id VARCHAR(64) NOT NULL PRIMARY KEY,
	display_name VARCHAR(256) NOT NULL,
	name_key VARCHAR(256) NOT NULL,
	external_id VARCHAR(256) NOT NULL,
	created_us BIGINT NOT NULL,
	modified_us BIGINT NOT NULL,
	version BIGINT NOT NULL,
	UNIQUE INDEX directory_groups_by_name (name_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS directory_group_members (
	group_id VARCHAR(64) NOT NULL,
	user_id VARCHAR(64) NOT NULL,
	PRIMARY KEY (group_id, user_id),
	INDEX directory_group_members_by_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS directory_memberships (
	username VARCHAR(256) NOT NULL,
	idp_group VARCHAR(256) NOT NULL,
	source VARCHAR(8) NOT NULL,
	at_us BIGINT NOT NULL,
	PRIMARY KEY (username, source, idp_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
