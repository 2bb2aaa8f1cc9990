-- Notices given once (an eligibility that ends soon), and access review
-- decisions: the standing keep or remove per team membership. An index
-- that a replica created first fails as a duplicate key and is skipped.
CREATE TABLE IF NOT EXISTS notices (
	notice_key VARCHAR(64) NOT NULL PRIMARY KEY,
	at_us BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
CREATE TABLE IF NOT EXISTS review_decisions (
	username VARCHAR(64) NOT NULL,
	team VARCHAR(64) NOT NULL,
	decision VARCHAR(16) NOT NULL,
	reason TEXT NOT NULL,
	reviewer VARCHAR(64) NOT NULL,
	at_us BIGINT NOT NULL,
	PRIMARY KEY (username, team)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE sessions ADD INDEX sessions_by_use (requester, role, resource, started_us);
