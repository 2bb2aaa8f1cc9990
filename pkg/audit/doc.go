// Package audit defines Lockbox's audit events and the hash chain that makes
// the log tamper-evident.
//
// Every record carries the hash of the record before it, and its own hash
// covers its sequence number, its contents and that previous hash. Changing,
// deleting or reordering a row therefore breaks the chain at that row, and
// Verify names it. A chain proves only what its head proves: an attacker who
// can rewrite the table can cut rows from the end and move the head back,
// or rewrite a row and reseal every row after it. Checkpoints anchor it: a
// Checkpoint states the head (row and hash) at a time, SignCheckpoint signs
// its text with the audit key as an OpenSSH SSH signature (ssh-keygen -Y
// verify checks it), and a Verifier given the checkpoint with Anchor
// refuses a chain that no longer holds that row with that hash, or no
// longer reaches it.
//
// The package does no I/O. The store persists records; the workflow seals
// them with Seal inside the transaction that makes the change they describe.
package audit
