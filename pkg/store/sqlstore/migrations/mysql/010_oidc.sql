-- Sign-ins through the identity provider that wait for the TOTP code.
CREATE TABLE IF NOT EXISTS sso_pending (
	token_hash CHAR(64) NOT NULL PRIMARY KEY,
	username VARCHAR(64) NOT NULL,
	groups_json MEDIUMTEXT NOT NULL,
	issuer VARCHAR(1024) NOT NULL,
	subject VARCHAR(1024) NOT NULL,
	client_addr VARCHAR(128) NOT NULL,
	created_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	INDEX sso_pending_by_expiry (expires_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
