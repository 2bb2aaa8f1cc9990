package workflow

import (
	"errors"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// DefaultEligibilityNotice is how long before a dated membership or
// eligibility entry ends that the sweeper records it as ending.
const DefaultEligibilityNotice = 7 * 24 * time.Hour

// noteEndings records, once per ending (across replicas: a notice row
// keyed by the ending), each dated membership or eligibility entry that
// ends within the configured lead time. Called by Sweep.
func (s *Service) noteEndings(tx store.Tx, now time.Time) error {
	for _, e := range s.policy().Endings(now, s.cfg.EligibilityNotice) {
		err := tx.AddNotice(e.Key(), now)
		if errors.Is(err, store.ErrDuplicate) {
			continue
		}
		if err != nil {
			return err
		}
		if err := eligibilityEnding(tx, e, now); err != nil {
			return err
		}
		if err := s.notifyEnding(tx, e, now); err != nil {
			return err
		}
	}
	return nil
}

// eligibilityEnding is the moment to tell the people who lose an
// eligibility, and their managers, that it ends: it records the audited
// state change eligibility.ending; noteEndings queues the message to
// them (notifyEnding) in the same transaction.
func eligibilityEnding(tx store.Tx, e policy.Ending, now time.Time) error {
	detail := map[string]any{"team": e.Team, "people": e.People, "managers": e.Managers,
		"roles": e.Roles, "resources": e.Resources, "until": e.Dates.Until, "ends": e.Dates.EndsText()}
	subject := "team:" + e.Team
	if e.Member != "" {
		detail["member"] = e.Member
		subject += "/" + e.Member
	}
	return record(tx, audit.Event{Time: now, Actor: "system", Action: "eligibility.ending", Subject: subject, Detail: detail})
}
