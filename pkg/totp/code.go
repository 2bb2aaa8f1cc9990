package totp

import (
	"encoding/base32"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

const (
	period = 30 // seconds per step
	digits = 6
)

// Step returns the RFC 6238 time step containing t: unix seconds / 30.
func Step(t time.Time) int64 {
	return t.Unix() / period
}

// Code returns the 6-digit code for secret at time step step. It is for tests
// and demos; to check a user's code use Validate.
func Code(secret []byte, step int64) string {
	code, err := hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), uint64(step),
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		// Only a malformed base32 secret fails, and ours is always well formed.
		panic("totp: generating code: " + err.Error())
	}
	return code
}
