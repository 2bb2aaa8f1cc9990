-- Sign-ins through the identity provider that wait for the TOTP code.
CREATE TABLE IF NOT EXISTS sso_pending (
	token_hash TEXT PRIMARY KEY,
	username TEXT NOT NULL,
	groups_json TEXT NOT NULL,
	issuer TEXT NOT NULL,
	subject TEXT NOT NULL,
	client_addr TEXT NOT NULL,
	created_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sso_pending_by_expiry ON sso_pending (expires_us);
