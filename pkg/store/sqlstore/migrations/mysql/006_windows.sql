-- Scheduled windows, escalation and shortened grants: the start the
-- requester chose, when the next escalation is due and when one was last
-- recorded, and how long each approver lets the grant last (0: as asked).
-- Each ALTER is atomic; one that a replica ran first fails as a duplicate
-- column or key and is skipped.
ALTER TABLE requests ADD COLUMN start_us BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN escalate_at_us BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN escalated_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD INDEX requests_by_escalation (state, escalate_at_us);
ALTER TABLE approvals ADD COLUMN duration_us BIGINT NOT NULL DEFAULT 0;
