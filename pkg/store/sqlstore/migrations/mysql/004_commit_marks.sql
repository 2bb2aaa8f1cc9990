-- One row per writer goroutine of each CA process: every write transaction
-- sets its writer's token, so that after a commit whose answer was lost
-- the writer can read back whether it took place (see batch.go).
CREATE TABLE IF NOT EXISTS commit_marks (
	writer VARCHAR(64) NOT NULL PRIMARY KEY,
	token VARCHAR(64) NOT NULL,
	at_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
