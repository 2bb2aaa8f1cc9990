// Package totp implements RFC 6238 time-based one-time passwords with the
// settings every authenticator app supports (SHA-1, 6 digits, 30-second
// steps), at most one step of clock drift, and single use: a code is accepted
// once, and never a code older than the last accepted one.
//
// Single use needs the caller's help. Store the step Validate returns as the
// user's last used step, with a compare-and-set against the value passed in,
// so that two concurrent logins with the same code cannot both succeed. Keep
// the secret encrypted at rest (see package secretbox) and throttle failures.
package totp
