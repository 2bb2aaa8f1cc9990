// Command totp prints the current TOTP code for an otpauth:// URI, as an
// authenticator app would. The demo uses it to answer the bastion's
// second-factor prompt; people should use an authenticator app, never keep
// their TOTP secret beside their SSH key.
//
//	go run ./scripts/totp 'otpauth://totp/...'
package main

import (
	"encoding/base32"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/totp"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: totp OTPAUTH-URI")
		os.Exit(2)
	}
	u, err := url.Parse(os.Args[1])
	if err != nil || u.Scheme != "otpauth" {
		fmt.Fprintln(os.Stderr, "totp: not an otpauth:// URI")
		os.Exit(2)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(u.Query().Get("secret")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "totp: bad secret:", err)
		os.Exit(2)
	}
	fmt.Println(totp.Code(secret, totp.Step(time.Now())))
}
