-- The notification outbox: one row per message and endpoint, written in
-- the transaction of the change it reports, delivered afterwards by any
-- CA replica that holds the row's lease. An index that a replica created
-- first fails as a duplicate key and is skipped.
CREATE TABLE IF NOT EXISTS outbox (
	msg_key VARCHAR(128) NOT NULL,
	endpoint VARCHAR(64) NOT NULL,
	kind VARCHAR(64) NOT NULL,
	subject VARCHAR(255) NOT NULL,
	body MEDIUMBLOB NOT NULL,
	state VARCHAR(16) NOT NULL,
	attempts INT NOT NULL,
	created_us BIGINT NOT NULL,
	due_us BIGINT NOT NULL,
	lease_owner VARCHAR(64) NOT NULL,
	lease_until_us BIGINT NOT NULL,
	last_error TEXT NOT NULL,
	done_us BIGINT NOT NULL,
	PRIMARY KEY (msg_key, endpoint)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE outbox ADD INDEX outbox_due (state, due_us);
