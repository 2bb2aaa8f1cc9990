package workflow

import (
	"fmt"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// StepUp is a fresh TOTP code given to fetch a certificate or approve a
// request of a role with step_up_mfa, and the address it came from (for
// throttling, as at the bastion).
type StepUp struct {
	Code string
	Addr string
}

// stepUp checks, inside tx, the fresh code of actor for request r, whose
// role asks for one (policy step_up_mfa; the caller checks, with the policy
// of its decision), with the same single-use check and per-person
// throttling as the bastion's TOTP step (verifyCode). A missing or refused
// code is audited as action about r and returned as a refusal, which
// commits the failure count.
func (s *Service) stepUp(tx store.Tx, actor Actor, action string, r *store.Request, in StepUp) error {
	detail := map[string]any{"step_up": true, "client": in.Addr}
	if in.Code == "" {
		return s.refuse(tx, actor, action, r.ID,
			fmt.Errorf("%w: role %s asks for a current code from your authenticator", ErrStepUpRequired, r.Role), detail)
	}
	why, err := s.verifyCode(tx, actor.User(), in.Code, in.Addr, detail)
	if err != nil {
		return err
	}
	if why != nil {
		return s.refuse(tx, actor, action, r.ID, fmt.Errorf("role %s asks for a fresh MFA code: %w", r.Role, why), detail)
	}
	return nil
}
