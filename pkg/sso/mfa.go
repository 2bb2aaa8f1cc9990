package sso

import (
	"errors"
	"slices"
)

// MFARule says when the provider's own multi-factor sign-in stands in for
// Lockbox's TOTP code. Off (Trust false), everyone signing in through the
// provider still gives their Lockbox code.
type MFARule struct {
	Trust bool
	// AMR: values of the ID token's amr claim (RFC 8176: "mfa", "otp",
	// "hwk", ...) any one of which counts. ACR: values of acr that count.
	// With Trust set, at least one value is required in either.
	AMR []string
	ACR []string
}

func (r MFARule) check() error {
	if r.Trust && len(r.AMR) == 0 && len(r.ACR) == 0 {
		return errors.New("sso: trusting the provider's MFA needs the amr or acr values that count")
	}
	return nil
}

// Satisfied says whether a token with amr and acr counts as a second
// factor: only when the rule trusts the provider and the token carries
// one of the values named (compared exactly).
func (r MFARule) Satisfied(amr []string, acr string) bool {
	if !r.Trust {
		return false
	}
	for _, v := range amr {
		if slices.Contains(r.AMR, v) {
			return true
		}
	}
	return acr != "" && slices.Contains(r.ACR, acr)
}
