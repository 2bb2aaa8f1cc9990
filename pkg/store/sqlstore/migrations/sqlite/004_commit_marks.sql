-- One row per writer of each CA process: every write transaction sets its
-- writer's token, so that after a commit whose answer was lost the writer
-- can read back whether it took place (see batch.go).
CREATE TABLE IF NOT EXISTS commit_marks (
	writer TEXT NOT NULL PRIMARY KEY,
	token TEXT NOT NULL,
	at_us INTEGER NOT NULL
);
