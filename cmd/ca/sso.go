package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/sso"
)

// oidcConfig is single sign-on for the web form through an OpenID
// Connect provider, on when issuer is set. The client secret is never in
// the config itself: client_secret_file names a file holding it, or the
// environment variable LOCKBOX_OIDC_CLIENT_SECRET holds it.
type oidcConfig struct {
	Issuer           string   `mapstructure:"issuer"`
	ClientID         string   `mapstructure:"client_id"`
	ClientSecretFile string   `mapstructure:"client_secret_file"`
	RedirectURL      string   `mapstructure:"redirect_url"`
	Scopes           []string `mapstructure:"scopes"`
	// Name is shown on the login page's button: "Sign in with NAME".
	Name        string `mapstructure:"name"`
	UserClaim   string `mapstructure:"user_claim"`
	UserDomain  string `mapstructure:"user_domain"`
	GroupsClaim string `mapstructure:"groups_claim"`
	// TrustMFA lets the token's amr or acr, when it carries one of
	// MFAAMR or MFAACR, stand in for the Lockbox TOTP code.
	TrustMFA  bool          `mapstructure:"trust_mfa"`
	MFAAMR    []string      `mapstructure:"mfa_amr"`
	MFAACR    []string      `mapstructure:"mfa_acr"`
	ClockSkew time.Duration `mapstructure:"clock_skew"`
	Timeout   time.Duration `mapstructure:"timeout"`
}

const oidcSecretEnv = "LOCKBOX_OIDC_CLIENT_SECRET"

func oidcDefaults(setDefault func(string, any)) {
	for k, v := range map[string]any{"oidc.issuer": "", "oidc.client_id": "", "oidc.client_secret_file": "", "oidc.redirect_url": "",
		"oidc.scopes": []string{"profile", "email"}, "oidc.name": "", "oidc.user_claim": "preferred_username", "oidc.user_domain": "",
		"oidc.groups_claim": "groups", "oidc.trust_mfa": false, "oidc.mfa_amr": []string{}, "oidc.mfa_acr": []string{},
		"oidc.clock_skew": time.Minute, "oidc.timeout": 10 * time.Second, "web.password_login": true} {
		setDefault(k, v)
	}
}

// ssoClient builds the provider's client when oidc.issuer is set; a
// missing secret or a bad setting refuses the start.
func ssoClient(c oidcConfig) (*sso.Client, error) {
	if c.Issuer == "" {
		return nil, nil
	}
	secret, err := oidcSecret(c.ClientSecretFile)
	if err != nil {
		return nil, err
	}
	cl, err := sso.New(sso.Config{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret, RedirectURL: c.RedirectURL,
		Scopes: c.Scopes, Claims: sso.ClaimMapping{User: c.UserClaim, UserDomain: c.UserDomain, Groups: c.GroupsClaim},
		MFA: sso.MFARule{Trust: c.TrustMFA, AMR: c.MFAAMR, ACR: c.MFAACR}, ClockSkew: c.ClockSkew, Timeout: c.Timeout})
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return cl, nil
}

func oidcSecret(file string) (string, error) {
	env := os.Getenv(oidcSecretEnv)
	switch {
	case file != "" && env != "":
		return "", fmt.Errorf("oidc: give the client secret in oidc.client_secret_file or in %s, not both", oidcSecretEnv)
	case env != "":
		return env, nil
	case file == "":
		return "", errors.New("oidc: the client secret is required: oidc.client_secret_file or " + oidcSecretEnv)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("oidc.client_secret_file: %w", err)
	}
	secret := string(bytes.TrimSpace(data))
	if secret == "" {
		return "", fmt.Errorf("oidc.client_secret_file %s is empty", file)
	}
	return secret, nil
}
