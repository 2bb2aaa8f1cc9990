package notify

// Target is one delivery of a message: the endpoint it goes to (the name
// of a channel configured in policy) and the people it addresses there
// (the email channel sends to their addresses; other channels name them).
type Target struct {
	Endpoint string
	To       []Recipient
}

// Router decides where a message goes: for m (its Kind, Request role,
// resources and tags, its Session, and for request.pending m.To, the
// people who can still approve it), the endpoints and recipients that
// should receive it. A message no route matches goes nowhere. Route must
// be deterministic for the same message and policy, because the outbox
// calls it once, in the transaction that writes the change, and stores
// one row per Target. Package notify/route implements it from policy.
type Router interface {
	Route(m *Message) []Target
}
