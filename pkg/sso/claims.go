package sso

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ClaimMapping says which ID token claims carry what Lockbox needs.
type ClaimMapping struct {
	// User names the claim holding the Lockbox user name (default
	// "preferred_username"). The value is lowercased.
	User string
	// UserDomain, when set, requires the user claim to be NAME@UserDomain
	// (the domain in any case) and takes NAME: Entra ID's UPN or Google's
	// email carry the domain, Lockbox user names do not.
	UserDomain string
	// Groups names the claim holding the directory groups (default
	// "groups"): an array of strings, or one string.
	Groups string
}

// Identity is what a verified ID token says about the person.
type Identity struct {
	User    string // the Lockbox user name, lowercased
	Issuer  string
	Subject string
	Groups  []string
	// GroupsOmitted: the provider left the groups out of the token and
	// pointed elsewhere for them (Entra ID's "groups overage", over 200
	// groups). Groups is then empty: no directory-bound group counts.
	GroupsOmitted bool
	AMR           []string
	ACR           string
	// MFA: the provider's MFA counts for Lockbox's own TOTP (MFARule).
	MFA    bool
	Expiry time.Time
}

// Bounds on what a token may carry.
const (
	MaxUser      = 64
	MaxGroup     = 256 // characters of one group name
	MaxGroups    = 1000
	maxAMRValues = 32
)

// MapClaims reads the ID token's claims (its JSON payload) as m says. A
// name given twice in the payload is refused: one token must not mean
// two things to two readers.
func MapClaims(m ClaimMapping, payload []byte) (*Identity, error) {
	m = m.withDefaults()
	var claims map[string]jsontext.Value
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrClaims, err)
	}
	var id Identity
	if err := stringClaim(claims, "iss", &id.Issuer); err != nil {
		return nil, err
	}
	if err := stringClaim(claims, "sub", &id.Subject); err != nil {
		return nil, err
	}
	var raw string
	if err := stringClaim(claims, m.User, &raw); err != nil {
		return nil, err
	}
	user, err := userName(m, raw)
	if err != nil {
		return nil, err
	}
	id.User = user
	if id.Groups, err = stringsClaim(claims, m.Groups, MaxGroups); err != nil {
		return nil, err
	}
	for _, g := range id.Groups {
		if err := checkGroup(g); err != nil {
			return nil, err
		}
	}
	if _, ok := claims[m.Groups]; !ok {
		id.GroupsOmitted = claimSourced(claims, m.Groups)
	}
	if id.AMR, err = stringsClaim(claims, "amr", maxAMRValues); err != nil {
		return nil, err
	}
	if err := stringClaim(claims, "acr", &id.ACR); err != nil {
		return nil, err
	}
	return &id, nil
}

func (m ClaimMapping) withDefaults() ClaimMapping {
	if m.User == "" {
		m.User = "preferred_username"
	}
	if m.Groups == "" {
		m.Groups = "groups"
	}
	return m
}

// userName turns the user claim into a Lockbox user name.
func userName(m ClaimMapping, raw string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(raw))
	if m.UserDomain != "" {
		local, domain, ok := strings.Cut(name, "@")
		if !ok || !strings.EqualFold(domain, m.UserDomain) {
			return "", fmt.Errorf("%w: claim %s is %q, not a name at %s", ErrClaims, m.User, clip(raw), m.UserDomain)
		}
		name = local
	}
	switch {
	case name == "":
		return "", fmt.Errorf("%w: claim %s is missing or empty", ErrClaims, m.User)
	case len(name) > MaxUser:
		return "", fmt.Errorf("%w: claim %s is longer than %d bytes", ErrClaims, m.User, MaxUser)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return "", fmt.Errorf("%w: claim %s is %q, which is not a Lockbox user name (a domain is taken off only with user_domain)", ErrClaims, m.User, clip(raw))
		}
	}
	return name, nil
}

func checkGroup(g string) error {
	if strings.TrimSpace(g) == "" || utf8.RuneCountInString(g) > MaxGroup {
		return fmt.Errorf("%w: a group name is empty or longer than %d characters", ErrClaims, MaxGroup)
	}
	if strings.ContainsFunc(g, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return fmt.Errorf("%w: group %q has control or invisible characters", ErrClaims, clip(g))
	}
	return nil
}

// stringClaim reads an optional string claim into out.
func stringClaim(claims map[string]jsontext.Value, name string, out *string) error {
	v, ok := claims[name]
	if !ok || v.Kind() == 'n' {
		return nil
	}
	if err := json.Unmarshal(v, out); err != nil || !utf8.ValidString(*out) {
		return fmt.Errorf("%w: claim %s is not a string", ErrClaims, name)
	}
	return nil
}

// stringsClaim reads an optional claim that is an array of strings or
// one string, of at most limit values, without duplicates.
func stringsClaim(claims map[string]jsontext.Value, name string, limit int) ([]string, error) {
	v, ok := claims[name]
	if !ok || v.Kind() == 'n' {
		return nil, nil
	}
	var out []string
	if v.Kind() == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%w: claim %s: %v", ErrClaims, name, err)
		}
		out = []string{s}
	} else if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("%w: claim %s is not a list of strings", ErrClaims, name)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("%w: claim %s has more than %d values", ErrClaims, name, limit)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// claimSourced says whether the token points to another source for
// claim (OpenID Connect's aggregated and distributed claims).
func claimSourced(claims map[string]jsontext.Value, claim string) bool {
	v, ok := claims["_claim_names"]
	if !ok {
		return false
	}
	var names map[string]jsontext.Value
	if err := json.Unmarshal(v, &names); err != nil {
		return false
	}
	_, ok = names[claim]
	return ok
}

// clip shortens outside text for an error message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
