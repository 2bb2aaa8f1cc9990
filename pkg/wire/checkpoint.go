package wire

import "time"

// AuditCheckpoint is the body of GET and POST /v1/audit/checkpoint: a
// signed checkpoint of the audit chain's head. Checkpoint is the exact text
// that was signed and Signature its armored SSH signature (sshsig), so
// that Checkpoint + Signature, concatenated, is the bundle `lockbox audit
// verify --checkpoint` reads.
type AuditCheckpoint struct {
	Seq        int64     `json:"seq"`
	Hash       string    `json:"hash"` // hex
	Time       time.Time `json:"time"`
	Checkpoint string    `json:"checkpoint"`
	Signature  string    `json:"signature"`
}

// AuditChainRecord is one audit row as stored, with its detail as the
// exact JSON that was hashed, so that a client can check the chain itself
// (GET /v1/audit/chain).
type AuditChainRecord struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Subject  string    `json:"subject"`
	Detail   string    `json:"detail"`    // the stored JSON text
	PrevHash string    `json:"prev_hash"` // hex
	Hash     string    `json:"hash"`      // hex
}

// AuditChain is the body of GET /v1/audit/chain.
type AuditChain struct {
	Records []AuditChainRecord `json:"records"`
}
