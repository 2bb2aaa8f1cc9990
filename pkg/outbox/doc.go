// Package outbox delivers the notifications the workflow wrote to the
// store's outbox, in the transactions of the changes they report.
//
// Any CA replica may run a Loop. Each pass claims due rows under a lease
// (a conditional update: one replica at a time holds a row, across every
// replica sharing the database), delivers them through their endpoints'
// channels, and records the outcome if it still holds the lease.
// Delivery is therefore at least once: a replica that dies after a
// delivery and before recording it leaves the row to be delivered again
// once the lease runs out, with the same idempotency key, which
// receivers use to drop the repeat.
//
// A failure is classified (notify.Classify): retryable ones wait an
// exponential backoff with full jitter (notify.Backoff) and try again;
// permanent ones, and rows out of attempts, are dead: kept, audited as
// notification.dead in the transaction that marks them, and told to
// operators with a message.dead notice through the router.
package outbox
