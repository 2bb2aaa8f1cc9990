CREATE TABLE IF NOT EXISTS requests (
	id TEXT PRIMARY KEY,
	requester TEXT NOT NULL,
	role TEXT NOT NULL,
	resources TEXT NOT NULL,
	duration_us INTEGER NOT NULL,
	reason TEXT NOT NULL,
	ticket TEXT NOT NULL,
	state TEXT NOT NULL,
	created_us INTEGER NOT NULL,
	pending_until_us INTEGER NOT NULL,
	decided_us INTEGER NOT NULL,
	decided_by TEXT NOT NULL,
	decision TEXT NOT NULL,
	not_before_us INTEGER NOT NULL,
	not_after_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_requester ON requests (requester, state);
CREATE INDEX IF NOT EXISTS requests_by_state ON requests (state, pending_until_us, not_after_us);
CREATE INDEX IF NOT EXISTS requests_by_created ON requests (created_us);

CREATE TABLE IF NOT EXISTS approvals (
	request_id TEXT NOT NULL,
	approver TEXT NOT NULL,
	reason TEXT NOT NULL,
	at_us INTEGER NOT NULL,
	PRIMARY KEY (request_id, approver)
);

CREATE TABLE IF NOT EXISTS certificates (
	serial INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	request_id TEXT NOT NULL,
	requester TEXT NOT NULL,
	bastion TEXT NOT NULL,
	key_id TEXT NOT NULL,
	principals TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	valid_after_us INTEGER NOT NULL,
	valid_before_us INTEGER NOT NULL,
	issued_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_by_request ON certificates (request_id);

CREATE TABLE IF NOT EXISTS audit_log (
	seq INTEGER PRIMARY KEY,
	at_us INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	subject TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash BLOB NOT NULL,
	hash BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_head (
	id INTEGER PRIMARY KEY,
	seq INTEGER NOT NULL,
	hash BLOB NOT NULL
);
INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, X'');

CREATE TABLE IF NOT EXISTS nonces (
	principal TEXT NOT NULL,
	nonce TEXT NOT NULL,
	expires_us INTEGER NOT NULL,
	PRIMARY KEY (principal, nonce)
);
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_us);

CREATE TABLE IF NOT EXISTS mfa (
	username TEXT PRIMARY KEY,
	secret BLOB NOT NULL,
	last_step INTEGER NOT NULL,
	enrolled_us INTEGER NOT NULL
);
