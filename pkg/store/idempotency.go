package store

import "time"

// Answer is the kept answer of a state-changing API call, under the
// idempotency key its caller chose, so that a caller who lost the answer
// can send the call again and get the same answer instead of a second
// change. It is written in the transaction that makes the change.
type Answer struct {
	Principal string // who made the call
	Key       string // the caller's Idempotency-Key
	// Fingerprint identifies the call (method, path, body), so that a key
	// reused for another call is refused rather than answered.
	Fingerprint []byte
	Status      int    // the HTTP status
	Body        []byte // sealed (package secretbox): an answer may hold a secret
	Created     time.Time
	Expires     time.Time // pruned after this
}

// AnswerTx is what a transaction can do with kept answers.
type AnswerTx interface {
	// Answer returns the answer kept under principal's key; ErrNotFound
	// if there is none.
	Answer(principal, key string) (*Answer, error)
	// Admission reads, as one statement, what a signed call is admitted
	// on: whether the directory disables userName (it lists the name, in
	// any case, as inactive or deleted; false if userName is "" or not
	// listed), and the answer kept under principal's key (nil if none).
	Admission(userName, principal, key string) (disabled bool, kept *Answer, err error)
	// KeepAnswer stores a; ErrDuplicate if principal's key is taken.
	KeepAnswer(a *Answer) error
	// PruneAnswers deletes answers that expired before now.
	PruneAnswers(now time.Time) error
}
