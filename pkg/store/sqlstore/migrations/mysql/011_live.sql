-- Live view: what bastions report of running sessions' output, kept
-- bounded (older chunks are pruned), and who watches. Every CA replica
-- reads and writes the same rows.
CREATE TABLE IF NOT EXISTS live_sessions (
	session_id VARCHAR(64) NOT NULL PRIMARY KEY,
	end_off BIGINT NOT NULL,
	last_input_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL,
	stop_by VARCHAR(64) NOT NULL,
	stop_reason TEXT NOT NULL,
	stop_us BIGINT NOT NULL,
	INDEX live_sessions_by_updated (updated_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS live_chunks (
	session_id VARCHAR(64) NOT NULL,
	start_off BIGINT NOT NULL,
	end_off BIGINT NOT NULL,
	data MEDIUMBLOB NOT NULL,
	at_us BIGINT NOT NULL,
	PRIMARY KEY (session_id, start_off),
	INDEX live_chunks_by_end (session_id, end_off)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS live_watches (
	id VARCHAR(64) NOT NULL PRIMARY KEY,
	session_id VARCHAR(64) NOT NULL,
	watcher VARCHAR(64) NOT NULL,
	via VARCHAR(16) NOT NULL,
	started_us BIGINT NOT NULL,
	seen_us BIGINT NOT NULL,
	INDEX live_watches_by_session (session_id, started_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
