package secretbox

import "errors"

// ErrDecrypt is returned by Open for any value that does not open: tampered,
// truncated, of an unknown version, sealed under another key or with other
// additional data. The cases are deliberately not told apart.
var ErrDecrypt = errors.New("secretbox: cannot decrypt")

// ErrKeySize is returned for a key that is not KeySize bytes.
var ErrKeySize = errors.New("secretbox: key must be 32 bytes")
