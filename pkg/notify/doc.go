// Package notify is the delivery half of Lockbox's notifications: the
// message model, the signature that generic webhooks carry and the
// verifier receivers use, the classification of a failed delivery as
// retryable or permanent, the backoff between attempts, references to
// secrets kept in files or the environment, and the transports (an HTTP
// POST with timeouts, SMTP with STARTTLS).
//
// It is a leaf: it imports no other Lockbox package. The renderers that
// turn a Message into a webhook body, a Slack or Teams card or an email
// live in notify/render (they share the CLI's and web's escaping in
// package inert); channels that render and send live in notify/channel.
//
// Delivery is at least once: a Message carries a stable idempotency key
// (Key), sent with every attempt, so receivers drop repeats. The retry
// loop and the table of messages waiting (the outbox) belong to the
// caller; this package gives it Classify and Backoff, both pure.
package notify
