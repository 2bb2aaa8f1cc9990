// Package secretbox encrypts small secrets at rest, such as TOTP secrets in
// the database, with AES-256-GCM under a key kept in a file outside the
// database.
//
// Sealed values are: one version byte (1) || 12-byte random nonce ||
// ciphertext and 16-byte tag. Bind each value to where it belongs with the
// additional data (for example the user name), so that a value copied to
// another row fails to open.
package secretbox
