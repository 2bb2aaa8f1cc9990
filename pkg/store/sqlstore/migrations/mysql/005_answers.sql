-- Kept answers of state-changing API calls, by the caller's idempotency key.
CREATE TABLE IF NOT EXISTS answers (
	principal VARCHAR(80) NOT NULL,
	idem_key VARCHAR(80) NOT NULL,
	fingerprint VARBINARY(64) NOT NULL,
	status INT NOT NULL,
	body MEDIUMBLOB NOT NULL,
	created_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	PRIMARY KEY (principal, idem_key),
	INDEX answers_by_expiry (expires_us)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
