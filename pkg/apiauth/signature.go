package apiauth

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/ssh"
)

// signatureFormats lists, per accepted key type, the signature formats
// accepted for it. RSA keys must use SHA-2 (ssh-rsa means SHA-1); DSA and
// certificates are not accepted as request keys.
var signatureFormats = map[string][]string{
	ssh.KeyAlgoED25519:    {ssh.KeyAlgoED25519},
	ssh.KeyAlgoECDSA256:   {ssh.KeyAlgoECDSA256},
	ssh.KeyAlgoECDSA384:   {ssh.KeyAlgoECDSA384},
	ssh.KeyAlgoECDSA521:   {ssh.KeyAlgoECDSA521},
	ssh.KeyAlgoSKED25519:  {ssh.KeyAlgoSKED25519},
	ssh.KeyAlgoSKECDSA256: {ssh.KeyAlgoSKECDSA256},
	ssh.KeyAlgoRSA:        {ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512},
}

// securityKeyTypes carry flags and a counter in Signature.Rest.
var securityKeyTypes = map[string]bool{
	ssh.KeyAlgoSKED25519:  true,
	ssh.KeyAlgoSKECDSA256: true,
}

// verifySignature checks that sig is a signature by key over msg in a format
// accepted for the key's type.
func verifySignature(key ssh.PublicKey, msg []byte, sig *ssh.Signature) error {
	if _, ok := key.(*ssh.Certificate); ok {
		return errors.New("registered key is a certificate")
	}
	if !formatAccepted(key.Type(), sig.Format) {
		return fmt.Errorf("signature format %q not accepted for key type %q", sig.Format, key.Type())
	}
	if len(sig.Rest) != 0 && !securityKeyTypes[key.Type()] {
		return errors.New("trailing data in signature")
	}
	return key.Verify(msg, sig)
}

func formatAccepted(keyType, format string) bool {
	return slices.Contains(signatureFormats[keyType], format)
}
