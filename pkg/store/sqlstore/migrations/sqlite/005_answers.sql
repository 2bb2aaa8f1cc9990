-- Kept answers of state-changing API calls, by the caller's idempotency key.
CREATE TABLE IF NOT EXISTS answers (
	principal TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	fingerprint BLOB NOT NULL,
	status INTEGER NOT NULL,
	body BLOB NOT NULL,
	created_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL,
	PRIMARY KEY (principal, idem_key)
);
CREATE INDEX IF NOT EXISTS answers_by_expiry ON answers (expires_us);
