CREATE TABLE IF NOT EXISTS sessions (
	id VARCHAR(64) NOT NULL PRIMARY KEY,
	requester VARCHAR(64) NOT NULL,
	request_id VARCHAR(64) NOT NULL,
	resource VARCHAR(64) NOT NULL,
	role VARCHAR(64) NOT NULL,
	bastion VARCHAR(64) NOT NULL,
	client_addr VARCHAR(128) NOT NULL,
	command TEXT NOT NULL,
	started_us BIGINT NOT NULL,
	ended_us BIGINT NOT NULL,
	end_reason TEXT NOT NULL,
	recording_size BIGINT NOT NULL,
	recording_sha256 VARCHAR(64) NOT NULL,
	recorded_us BIGINT NOT NULL,
	INDEX sessions_by_started (started_us),
	INDEX sessions_by_requester (requester, started_us),
	INDEX sessions_by_request (request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS session_leases (
	username VARCHAR(64) NOT NULL PRIMARY KEY,
	session_id VARCHAR(64) NOT NULL,
	bastion VARCHAR(64) NOT NULL,
	expires_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS throttles (
	throttle_key VARCHAR(200) NOT NULL PRIMARY KEY,
	failures INT NOT NULL,
	last_failure_us BIGINT NOT NULL,
	blocked_until_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
