package sshcert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxSerialDraws bounds the retries of NewSerial: with a working random
// source the chance of drawing zero even twice is 2^-128.
const maxSerialDraws = 16

// NewSerial returns a serial number drawn uniformly from 1..2^64-1 using
// rand (crypto/rand.Reader in production). Zero is never returned: OpenSSH
// KRL serial lists ignore it, so a certificate with serial 0 could not be
// revoked by serial.
func NewSerial(rand io.Reader) (uint64, error) {
	var b [8]byte
	for range maxSerialDraws {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("drawing serial: %w", err)
		}
		if s := binary.BigEndian.Uint64(b[:]); s != 0 {
			return s, nil
		}
	}
	return 0, errors.New("sshcert: random source returned only zeros")
}
