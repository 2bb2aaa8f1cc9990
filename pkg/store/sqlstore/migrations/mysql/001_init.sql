CREATE TABLE IF NOT EXISTS requests (
	id VARCHAR(64) NOT NULL PRIMARY KEY,
	requester VARCHAR(64) NOT NULL,
	role VARCHAR(64) NOT NULL,
	resources TEXT NOT NULL,
	duration_us BIGINT NOT NULL,
	reason TEXT NOT NULL,
	ticket VARCHAR(128) NOT NULL,
	state VARCHAR(16) NOT NULL,
	created_us BIGINT NOT NULL,
	pending_until_us BIGINT NOT NULL,
	decided_us BIGINT NOT NULL,
	decided_by VARCHAR(80) NOT NULL,
	decision TEXT NOT NULL,
	not_before_us BIGINT NOT NULL,
	not_after_us BIGINT NOT NULL,
	INDEX requests_by_requester (requester, state),
	INDEX requests_by_state (state, pending_until_us, not_after_us),
	INDEX requests_by_created (created_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS approvals (
	request_id VARCHAR(64) NOT NULL,
	approver VARCHAR(64) NOT NULL,
	reason TEXT NOT NULL,
	at_us BIGINT NOT NULL,
	PRIMARY KEY (request_id, approver)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS certificates (
	serial BIGINT NOT NULL PRIMARY KEY,
	kind VARCHAR(8) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	requester VARCHAR(64) NOT NULL,
	bastion VARCHAR(64) NOT NULL,
	key_id VARCHAR(255) NOT NULL,
	principals TEXT NOT NULL,
	fingerprint VARCHAR(128) NOT NULL,
	valid_after_us BIGINT NOT NULL,
	valid_before_us BIGINT NOT NULL,
	issued_us BIGINT NOT NULL,
	INDEX certificates_by_request (request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit_log (
	seq BIGINT NOT NULL PRIMARY KEY,
	at_us BIGINT NOT NULL,
	actor VARCHAR(80) NOT NULL,
	action VARCHAR(64) NOT NULL,
	subject VARCHAR(255) NOT NULL,
	detail MEDIUMTEXT NOT NULL,
	prev_hash VARBINARY(64) NOT NULL,
	hash VARBINARY(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit_head (
	id INT NOT NULL PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash VARBINARY(64) NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, X'');

CREATE TABLE IF NOT EXISTS nonces (
	principal VARCHAR(80) NOT NULL,
	nonce VARCHAR(64) NOT NULL,
	expires_us BIGINT NOT NULL,
	PRIMARY KEY (principal, nonce),
	INDEX nonces_by_expiry (expires_us)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

CREATE TABLE IF NOT EXISTS mfa (
	username VARCHAR(64) NOT NULL PRIMARY KEY,
	secret VARBINARY(255) NOT NULL,
	last_step BIGINT NOT NULL,
	enrolled_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
