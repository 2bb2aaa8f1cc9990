package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

const (
	// KeySize is the key length: AES-256.
	KeySize = 32

	version   = 1
	nonceSize = 12
	tagSize   = 16
	overhead  = 1 + nonceSize + tagSize
)

// Box seals and opens values under one key. Make it with New or LoadKeyFile;
// the zero Box is not usable. A Box is safe for concurrent use.
type Box struct {
	aead cipher.AEAD // prepends a random nonce to its output
}

// New returns a Box using key, which must be KeySize random bytes.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext, authenticating additionalData with it, and returns
// version || nonce || ciphertext. Open needs the same additionalData. Nonces
// are random, so keep well under 2^32 Seal calls per key.
func (b *Box) Seal(plaintext, additionalData []byte) []byte {
	out := make([]byte, 1, overhead+len(plaintext))
	out[0] = version
	return b.aead.Seal(out, nil, plaintext, additionalData)
}

// Open decrypts a value made by Seal with the same key and additionalData.
// Any failure is ErrDecrypt.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < overhead || sealed[0] != version {
		return nil, ErrDecrypt
	}
	plaintext, err := b.aead.Open(nil, nil, sealed[1:], additionalData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}
