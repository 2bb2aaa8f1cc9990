package totp

import (
	cryptorand "crypto/rand"
	"fmt"
	"io"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// SecretSize is the length of secrets made by NewSecret (RFC 4226's
// recommended 160 bits).
const SecretSize = 20

// NewSecret makes a new SecretSize-byte secret from rand (nil means
// crypto/rand) and its otpauth:// URI for the user's authenticator app,
// labelled "issuer:account" (issuer is "Lockbox" in the product). Show the URI
// (or a QR code of it) once, then keep only the encrypted secret.
func NewSecret(issuer, account string, rand io.Reader) (secret []byte, uri string, err error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	secret = make([]byte, SecretSize)
	if _, err := io.ReadFull(rand, secret); err != nil {
		return nil, "", fmt.Errorf("totp: making secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      period,
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, "", fmt.Errorf("totp: making key URI: %w", err)
	}
	return secret, key.URL(), nil
}
