package sso

import (
	"errors"
	"testing"
)

func TestProviderMFACountsOnlyWhenTrustedAndNamed(t *testing.T) {
	trusted := MFARule{Trust: true, AMR: []string{"mfa", "hwk"}, ACR: []string{"http://schemas.openid.net/pape/policies/2007/06/multi-factor"}}
	for _, tc := range []struct {
		name string
		rule MFARule
		amr  []string
		acr  string
		want bool
	}{
		{"not trusted, mfa in amr", MFARule{AMR: []string{"mfa"}}, []string{"mfa"}, "", false},
		{"trusted, mfa in amr", trusted, []string{"pwd", "mfa"}, "", true},
		{"trusted, password only", trusted, []string{"pwd"}, "", false},
		{"trusted, no amr or acr", trusted, nil, "", false},
		{"trusted, acr named", trusted, nil, "http://schemas.openid.net/pape/policies/2007/06/multi-factor", true},
		{"trusted, other acr", trusted, nil, "0", false},
		{"values compare exactly", trusted, []string{"MFA"}, "", false},
		{"acr rule only, amr ignored", MFARule{Trust: true, ACR: []string{"phr"}}, []string{"mfa"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Satisfied(tc.amr, tc.acr); got != tc.want {
				t.Errorf("Satisfied(%q, %q) = %v, want %v", tc.amr, tc.acr, got, tc.want)
			}
		})
	}
}

func TestTrustingProviderMFAWithoutValuesIsAConfigError(t *testing.T) {
	_, err := New(Config{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://ca.example/ui/login/sso/callback", MFA: MFARule{Trust: true}})
	if err == nil {
		t.Fatal("New accepted trust without amr or acr values")
	}
}

func TestFinishRefusesTheProvidersErrorBeforeExchangingAnything(t *testing.T) {
	c, err := New(Config{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", RedirectURL: "https://ca.example/cb"})
	if err != nil {
		t.Fatal(err)
	}
	st := Start{State: "mine", Nonce: "n", Verifier: "v"}
	if _, err := c.Finish(t.Context(), Callback{State: "mine", Error: "access_denied", Start: st}); !errors.Is(err, ErrProvider) {
		t.Errorf("provider error: %v, want ErrProvider", err)
	}
	if _, err := c.Finish(t.Context(), Callback{State: "mine", Start: st}); !errors.Is(err, ErrCode) {
		t.Errorf("no code: %v, want ErrCode", err)
	}
}

func TestFinishRefusesAStateThatIsNotTheBrowsers(t *testing.T) {
	c, err := New(Config{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", RedirectURL: "https://ca.example/cb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cb := range []Callback{
		{State: "forged", Code: "x", Start: Start{State: "mine", Nonce: "n", Verifier: "v"}},
		{State: "", Code: "x", Start: Start{}},
	} {
		if _, err := c.Finish(t.Context(), cb); err != ErrState {
			t.Errorf("Finish(%+v) = %v, want ErrState", cb, err)
		}
	}
}
