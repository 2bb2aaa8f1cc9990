package totp

import "errors"

var (
	// ErrInvalid: the code is not 6 digits, or matches none of the
	// accepted time steps.
	ErrInvalid = errors.New("totp: invalid code")
	// ErrReused: the code matches, but for a step at or before the last
	// used one.
	ErrReused = errors.New("totp: code already used")
)
