CREATE TABLE IF NOT EXISTS sessions (
	id TEXT PRIMARY KEY,
	requester TEXT NOT NULL,
	request_id TEXT NOT NULL,
	resource TEXT NOT NULL,
	role TEXT NOT NULL,
	bastion TEXT NOT NULL,
	client_addr TEXT NOT NULL,
	command TEXT NOT NULL,
	started_us INTEGER NOT NULL,
	ended_us INTEGER NOT NULL,
	end_reason TEXT NOT NULL,
	recording_size INTEGER NOT NULL,
	recording_sha256 TEXT NOT NULL,
	recorded_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_started ON sessions (started_us);
CREATE INDEX IF NOT EXISTS sessions_by_requester ON sessions (requester, started_us);
CREATE INDEX IF NOT EXISTS sessions_by_request ON sessions (request_id);

CREATE TABLE IF NOT EXISTS session_leases (
	username TEXT PRIMARY KEY,
	session_id TEXT NOT NULL,
	bastion TEXT NOT NULL,
	expires_us INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS throttles (
	throttle_key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	last_failure_us INTEGER NOT NULL,
	blocked_until_us INTEGER NOT NULL
);
