-- The notification outbox: one row per message and endpoint, written in
-- the transaction of the change it reports, delivered afterwards by any
-- CA replica that holds the row's lease.
CREATE TABLE IF NOT EXISTS outbox (
	msg_key TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	kind TEXT NOT NULL,
	subject TEXT NOT NULL,
	body BLOB NOT NULL,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	created_us INTEGER NOT NULL,
	due_us INTEGER NOT NULL,
	lease_owner TEXT NOT NULL,
	lease_until_us INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	done_us INTEGER NOT NULL,
	PRIMARY KEY (msg_key, endpoint)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, due_us);
