-- Scheduled windows, escalation and shortened grants: the start the
-- requester chose, when the next escalation is due and when one was last
-- recorded, and how long each approver lets the grant last (0: as asked).
-- A column that exists already (a replica ran this first) is skipped.
ALTER TABLE requests ADD COLUMN start_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN escalate_at_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN escalated_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE approvals ADD COLUMN duration_us INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS requests_by_escalation ON requests (state, escalate_at_us);
