package sso

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMapClaimsTakesTheConfiguredUserAndGroupsClaims(t *testing.T) {
	for _, tc := range []struct {
		name    string
		m       ClaimMapping
		payload string
		want    *Identity
		err     error
	}{
		{name: "defaults", payload: `{"iss":"https://idp","sub":"1","preferred_username":"Carol","groups":["sre","Security Team"]}`,
			want: &Identity{User: "carol", Issuer: "https://idp", Subject: "1", Groups: []string{"Security Team", "sre"}}},
		{name: "other claims", m: ClaimMapping{User: "email", UserDomain: "Example.com", Groups: "roles"},
			payload: `{"sub":"1","email":"carol@example.COM","roles":"approvers","groups":["ignored"]}`,
			want:    &Identity{User: "carol", Subject: "1", Groups: []string{"approvers"}}},
		{name: "amr and acr", payload: `{"preferred_username":"dave","amr":["pwd","mfa"],"acr":"phr"}`,
			want: &Identity{User: "dave", AMR: []string{"mfa", "pwd"}, ACR: "phr"}},
		{name: "groups left out for an overage", payload: `{"preferred_username":"dave","_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://graph"}}}`,
			want: &Identity{User: "dave", GroupsOmitted: true}},
		{name: "duplicate groups once", payload: `{"preferred_username":"dave","groups":["a","a"]}`,
			want: &Identity{User: "dave", Groups: []string{"a"}}},
		{name: "no user claim", payload: `{"sub":"1","email":"carol@example.com"}`, err: ErrClaims},
		{name: "wrong domain", m: ClaimMapping{User: "email", UserDomain: "example.com"}, payload: `{"email":"carol@evil.com"}`, err: ErrClaims},
		{name: "domain without user_domain", payload: `{"preferred_username":"carol@example.com"}`, err: ErrClaims},
		{name: "user not a string", payload: `{"preferred_username":["carol"]}`, err: ErrClaims},
		{name: "user with spaces", payload: `{"preferred_username":"carol smith"}`, err: ErrClaims},
		{name: "user too long", payload: `{"preferred_username":"` + strings.Repeat("a", 65) + `"}`, err: ErrClaims},
		{name: "groups not strings", payload: `{"preferred_username":"carol","groups":[1]}`, err: ErrClaims},
		{name: "group with a control character", payload: `{"preferred_username":"carol","groups":["a\u0007"]}`, err: ErrClaims},
		{name: "group too long", payload: `{"preferred_username":"carol","groups":["` + strings.Repeat("g", 257) + `"]}`, err: ErrClaims},
		{name: "a name twice", payload: `{"preferred_username":"carol","preferred_username":"root"}`, err: ErrClaims},
		{name: "not an object", payload: `["carol"]`, err: ErrClaims},
		{name: "acr not a string", payload: `{"preferred_username":"carol","acr":1}`, err: ErrClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MapClaims(tc.m, []byte(tc.payload))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("MapClaims = %+v, %v; want %v", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("identity (-want +got):\n%s", d)
			}
		})
	}
}

func TestMapClaimsRefusesTooManyGroups(t *testing.T) {
	groups := make([]string, MaxGroups+1)
	for i := range groups {
		groups[i] = `"g` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `"`
	}
	_, err := MapClaims(ClaimMapping{}, []byte(`{"preferred_username":"carol","groups":[`+strings.Join(groups, ",")+`]}`))
	if !errors.Is(err, ErrClaims) {
		t.Fatalf("err = %v, want ErrClaims", err)
	}
}

func FuzzMapClaims(f *testing.F) {
	for _, s := range []string{`{"preferred_username":"carol","groups":["sre"],"amr":["mfa"],"acr":"x"}`,
		`{"preferred_username":"a@b","groups":"x"}`, `{"_claim_names":{"groups":"s"}}`, `{}`, `[]`, `{"groups":[null]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		id, err := MapClaims(ClaimMapping{UserDomain: "b"}, payload)
		if err != nil {
			if !errors.Is(err, ErrClaims) {
				t.Fatalf("error %v is not ErrClaims", err)
			}
			return
		}
		if id.User == "" || len(id.User) > MaxUser || len(id.Groups) > MaxGroups {
			t.Fatalf("accepted %+v", id)
		}
	})
}
