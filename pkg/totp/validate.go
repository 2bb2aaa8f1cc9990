package totp

import (
	"crypto/subtle"
	"time"
)

// drift is how many steps either side of the current one are accepted.
const drift = 1

// Validate checks code against secret at steps Step(now)-1, Step(now) and
// Step(now)+1, comparing every candidate in constant time. A code whose step
// is at or before lastUsed is refused with ErrReused, so each code works once
// and never after a newer one; pass 0 (or any negative number) for a user who
// has not logged in with TOTP yet. On success, store the returned step as the
// new lastUsed with a compare-and-set against the lastUsed you passed; if that
// fails, refuse the login. Any other failure is ErrInvalid.
func Validate(secret []byte, code string, now time.Time, lastUsed int64) (step int64, err error) {
	if !wellFormed(code) || len(secret) == 0 {
		return 0, ErrInvalid
	}
	current := Step(now)
	matched, fresh := false, int64(-1)
	// Check every candidate, with no early exit, so timing does not tell
	// which step matched.
	for s := current - drift; s <= current+drift; s++ {
		if s < 0 {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(Code(secret, s)), []byte(code)) == 1 {
			matched = true
			if s > lastUsed && fresh < 0 {
				fresh = s
			}
		}
	}
	switch {
	case fresh >= 0:
		return fresh, nil
	case matched:
		return 0, ErrReused
	default:
		return 0, ErrInvalid
	}
}

// wellFormed accepts exactly 6 ASCII digits.
func wellFormed(code string) bool {
	if len(code) != digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
