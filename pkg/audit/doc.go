// Package audit defines Lockbox's audit events and the hash chain that makes
// the log tamper-evident.
//
// Every record carries the hash of the record before it, and its own hash
// covers its sequence number, its contents and that previous hash. Changing,
// deleting or reordering a row therefore breaks the chain at that row, and
// Verify names it. A chain proves only what its head proves: an attacker who
// can rewrite the whole table can rewrite the whole chain, so keep the head
// hash that `lockbox audit verify` prints somewhere else as well (a log
// shipper, a ticket), and compare.
//
// The package does no I/O. The store persists records; the workflow seals
// them with Seal inside the transaction that makes the change they describe.
package audit
