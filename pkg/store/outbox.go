package store

import "time"

// OutboxState is where a notification stands in the outbox.
type OutboxState string

const (
	// OutboxQueued: waiting for its next attempt (DueAt), or being
	// delivered by the replica that holds its lease.
	OutboxQueued OutboxState = "queued"
	// OutboxDelivered: an endpoint accepted it.
	OutboxDelivered OutboxState = "delivered"
	// OutboxDead: given up after its attempts or a permanent failure.
	OutboxDead OutboxState = "dead"
)

// OutboxMessage is one notification for one endpoint. Key and Endpoint
// identify it: the same event routed to the same endpoint twice is one
// row. Body is the message as JSON, ready to render; it never holds a
// secret (endpoints' secrets stay in their configuration).
type OutboxMessage struct {
	Key      string // the message's idempotency key (notify.NewKey)
	Endpoint string // the channel's name
	Kind     string // the event (notify.Kind)
	Subject  string // what it is about: a request or session ID, a user
	Body     []byte
	State    OutboxState
	// Attempts counts the deliveries tried so far.
	Attempts  int
	CreatedAt time.Time
	// DueAt is when the next attempt may start.
	DueAt time.Time
	// LeaseOwner holds the row until LeaseUntil while it delivers it: the
	// claiming owner's name, "#" and a token of that claim.
	LeaseOwner string
	LeaseUntil time.Time
	LastError  string
	// DoneAt is when it was delivered or given up.
	DoneAt time.Time
}

// OutboxFilter selects outbox rows for OutboxMessages; zero fields select
// everything.
type OutboxFilter struct {
	States []OutboxState
	// DueBy selects the queued rows due at it whose lease, if any, ran out
	// by then: what a claim at DueBy would take.
	DueBy time.Time
	Limit int // 0 = 1000
}

// OutboxTx is what a transaction can do with the notification outbox.
type OutboxTx interface {
	// EnqueueOutbox adds m as queued and due at m.DueAt (m.CreatedAt if
	// zero); ErrDuplicate if its key and endpoint are there already.
	EnqueueOutbox(m *OutboxMessage) error
	// ClaimOutbox leases to owner, until leaseUntil, up to limit queued
	// rows due at now whose lease (if any) ran out, earliest due first,
	// and returns them. A row is claimed by one owner at a time across
	// every replica sharing the database.
	ClaimOutbox(owner string, now, leaseUntil time.Time, limit int) ([]*OutboxMessage, error)
	// FinishOutbox records the outcome of owner's attempt on the row m
	// as its claim returned it: m.State (queued again, delivered or dead),
	// m.Attempts, m.DueAt, m.LastError and m.DoneAt, and frees the lease.
	// ErrConflict if that claim no longer holds the row's lease (another
	// claim took it over after it ran out).
	FinishOutbox(owner string, m *OutboxMessage) error
	// OutboxMessages lists rows, newest first.
	OutboxMessages(f OutboxFilter) ([]*OutboxMessage, error)
	// CountOutbox counts the rows in each state.
	CountOutbox() (map[OutboxState]int, error)
	// PruneOutbox deletes delivered rows done before before.
	PruneOutbox(before time.Time) error
}
