CREATE TABLE IF NOT EXISTS web_passwords (
	username TEXT PRIMARY KEY,
	hash TEXT NOT NULL,
	set_us INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS web_sessions (
	token_hash TEXT PRIMARY KEY,
	username TEXT NOT NULL,
	csrf TEXT NOT NULL,
	client_addr TEXT NOT NULL,
	created_us INTEGER NOT NULL,
	last_seen_us INTEGER NOT NULL,
	idle_until_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_by_user ON web_sessions (username);
CREATE INDEX IF NOT EXISTS web_sessions_by_idle ON web_sessions (idle_until_us);
CREATE INDEX IF NOT EXISTS web_sessions_by_expiry ON web_sessions (expires_us);
