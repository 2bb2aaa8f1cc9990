package sqlstore

// The hot queries, named so the write connection can prepare them when the
// store opens (see stmtCache).
var (
	qInsertRequest = `INSERT INTO requests (` + requestColumns + `) VALUES (` + placeholders(requestColumnCount) + `)`
	qSelectRequest = `SELECT ` + requestColumns + ` FROM requests WHERE id = ?`
	qUpdateRequest = `UPDATE requests SET requester = ?, role = ?, resources = ?, duration_us = ?, reason = ?, ticket = ?, state = ?,
		created_us = ?, pending_until_us = ?, decided_us = ?, decided_by = ?, decision = ?, not_before_us = ?, not_after_us = ?,
		start_us = ?, escalate_at_us = ?, escalated_us = ?
		WHERE id = ? AND state = ?`
	qCountOpen = `SELECT
		COALESCE(SUM(CASE WHEN state = 'pending' AND pending_until_us > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'approved' AND not_after_us > ? THEN 1 ELSE 0 END), 0)
		FROM requests WHERE requester = ? AND state IN ('pending', 'approved')`
	qInsertApproval    = `INSERT INTO approvals (request_id, approver, reason, at_us, duration_us) VALUES (?, ?, ?, ?, ?)`
	qSelectApprovals   = `SELECT request_id, approver, reason, at_us, duration_us FROM approvals WHERE request_id = ? ORDER BY at_us, approver`
	qInsertCertificate = `INSERT INTO certificates (serial, kind, request_id, requester, bastion, key_id, principals, fingerprint,
		valid_after_us, valid_before_us, issued_us) VALUES (` + placeholders(11) + `)`
	qAuditHead         = `SELECT seq, hash FROM audit_head WHERE id = 1`
	qInsertAudit       = `INSERT INTO audit_log (seq, at_us, actor, action, subject, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qMoveAuditHead     = `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?`
	qInsertNonce       = `INSERT INTO nonces (principal, nonce, expires_us) VALUES (?, ?, ?)`
	qSavepoint         = "SAVEPOINT op"
	qRollbackSavepoint = "ROLLBACK TO SAVEPOINT op"
	qReleaseSavepoint  = "RELEASE SAVEPOINT op"
)

// writeQueries are prepared on the write connection at open.
func writeQueries(d dialect) []string {
	return append([]string{qInsertRequest, qSelectRequest, qSelectRequest + d.forUpdate(), qUpdateRequest, qCountOpen + d.forUpdate(), qCountOpen,
		qInsertApproval, qSelectApprovals, qInsertCertificate, qAuditHead + d.forUpdate(), qInsertAudit, qMoveAuditHead,
		qInsertNonce, qSavepoint, qRollbackSavepoint, qReleaseSavepoint, qSetMark}, appendQueries()...)
}

// Read by every signed API call: whether the caller is active in the
// directory, and whether an answer is kept under its idempotency key.
var (
	qDirectoryUserByName = `SELECT ` + directoryUserColumns + ` FROM directory_users WHERE username = ?`
	qSelectAnswer        = `SELECT fingerprint, status, body, created_us, expires_us FROM answers WHERE principal = ? AND idem_key = ?`
	// qAdmission is both as one statement (tx.Admission): one row whatever
	// is found, as each join matches at most one row (unique username;
	// primary key principal, idem_key).
	qAdmission = `SELECT d.active, d.deleted, a.fingerprint, a.status, a.body, a.created_us, a.expires_us
		FROM (SELECT 1 AS one) AS o
		LEFT JOIN directory_users AS d ON d.username = ?
		LEFT JOIN answers AS a ON a.principal = ? AND a.idem_key = ?`
)

// readQueries are prepared on the read pool at open.
var readQueries = []string{qSelectRequest, qSelectApprovals, qAuditHead, qCountOpen, qDirectoryUserByName, qSelectAnswer, qAdmission,
	qSelectSession, qLiveChunks, qLiveSpans, qLiveState, qLiveWatch, qLiveWatchesOf}

// qSelectSession reads a session: every live read checks it.
var qSelectSession = `SELECT ` + sessionColumns + ` FROM sessions WHERE id = ?`
