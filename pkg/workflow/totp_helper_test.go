package workflow_test

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/lockbox-ssh/lockbox/pkg/totp"
)

// codeFromURI computes the code an authenticator app would show at now
// for the otpauth URI.
func codeFromURI(t *testing.T, uri string, now time.Time) string {
	t.Helper()
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(k.Secret(), "=")))
	if err != nil {
		t.Fatal(err)
	}
	return totp.Code(secret, totp.Step(now))
}
