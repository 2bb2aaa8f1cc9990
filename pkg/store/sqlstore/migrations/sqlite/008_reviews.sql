-- Notices given once (an eligibility that ends soon), and access review
-- decisions: the standing keep or remove per team membership.
CREATE TABLE IF NOT EXISTS notices (
	notice_key TEXT PRIMARY KEY,
	at_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS review_decisions (
	username TEXT NOT NULL,
	team TEXT NOT NULL,
	decision TEXT NOT NULL,
	reason TEXT NOT NULL,
	reviewer TEXT NOT NULL,
	at_us INTEGER NOT NULL,
	PRIMARY KEY (username, team)
);
CREATE INDEX IF NOT EXISTS sessions_by_use ON sessions (requester, role, resource, started_us);
