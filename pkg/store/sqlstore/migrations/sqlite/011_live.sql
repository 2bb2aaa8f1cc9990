-- Live view: what bastions report of running sessions' output, kept
-- bounded (older chunks are pruned), and who watches. Every CA replica
-- reads and writes the same rows.
CREATE TABLE IF NOT EXISTS live_sessions (
	session_id TEXT PRIMARY KEY,
	end_off INTEGER NOT NULL,
	last_input_us INTEGER NOT NULL,
	updated_us INTEGER NOT NULL,
	stop_by TEXT NOT NULL,
	stop_reason TEXT NOT NULL,
	stop_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS live_sessions_by_updated ON live_sessions (updated_us);
CREATE TABLE IF NOT EXISTS live_chunks (
	session_id TEXT NOT NULL,
	start_off INTEGER NOT NULL,
	end_off INTEGER NOT NULL,
	data BLOB NOT NULL,
	at_us INTEGER NOT NULL,
	PRIMARY KEY (session_id, start_off)
);
CREATE INDEX IF NOT EXISTS live_chunks_by_end ON live_chunks (session_id, end_off);
CREATE TABLE IF NOT EXISTS live_watches (
	id TEXT PRIMARY KEY,
	session_id TEXT NOT NULL,
	watcher TEXT NOT NULL,
	via TEXT NOT NULL,
	started_us INTEGER NOT NULL,
	seen_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS live_watches_by_session ON live_watches (session_id, started_us);
