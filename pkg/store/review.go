package store

import "time"

// Usage says when a user last asked for a role on a resource (a request
// in any state but rejected) and last used it (a session through the
// bastion); a zero time: never.
type Usage struct {
	User          string
	Role          string
	Resource      string
	LastRequested time.Time
	LastUsed      time.Time
}

// ReviewDecision is an access reviewer's keep or remove for one team
// membership, with the reason. The latest decision per membership stands;
// earlier ones are in the audit log.
type ReviewDecision struct {
	User     string // whose membership
	Team     string
	Decision string // "keep" or "remove"
	Reason   string
	Reviewer string
	At       time.Time
}

// ReviewTx is what a transaction can do for eligibility notices and
// access reviews.
type ReviewTx interface {
	// AddNotice records that the notice named key (an eligibility that
	// ends, say) was given at; ErrDuplicate if it was given already, so
	// each is given once across replicas.
	AddNotice(key string, at time.Time) error
	// Usage returns one row per user, role and resource ever requested
	// or used.
	Usage() ([]Usage, error)
	// PutReviewDecision stores d, replacing the decision for the same
	// user and team.
	PutReviewDecision(d ReviewDecision) error
	// ReviewDecisions returns every standing decision, by team and user.
	ReviewDecisions() ([]ReviewDecision, error)
}
