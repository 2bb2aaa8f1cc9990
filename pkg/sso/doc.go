// Package sso signs people in to the web form through an OpenID Connect
// provider: the authorization code flow with PKCE (S256), a state and a
// nonce per sign-in, the ID token verified with the provider's published
// keys (github.com/coreos/go-oidc/v3), then mapped to a Lockbox user name,
// directory groups and whether the provider's MFA counts.
//
// The package knows nothing of the web form or the workflow: Begin makes
// what a sign-in needs (the caller binds State, Nonce and Verifier to the
// browser), Finish turns the provider's answer into an Identity or a named
// error saying why not. Claim mapping and the amr/acr rule are pure
// functions (MapClaims, MFARule.Satisfied).
package sso
