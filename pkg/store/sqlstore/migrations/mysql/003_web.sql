CREATE TABLE IF NOT EXISTS web_passwords (
	username VARCHAR(64) NOT NULL PRIMARY KEY,
	hash VARCHAR(255) NOT NULL,
	set_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS web_sessions (
	token_hash CHAR(64) NOT NULL PRIMARY KEY,
	username VARCHAR(64) NOT NULL,
	csrf VARCHAR(64) NOT NULL,
	client_addr VARCHAR(128) NOT NULL,
	created_us BIGINT NOT NULL,
	last_seen_us BIGINT NOT NULL,
	idle_until_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	INDEX web_sessions_by_user (username),
	INDEX web_sessions_by_idle (idle_until_us),
	INDEX web_sessions_by_expiry (expires_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
