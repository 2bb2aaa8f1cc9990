package sso_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/internal/oidctest"
	"github.com/lockbox-ssh/lockbox/pkg/sso"
)

const redirect = "http://127.0.0.1:9/ui/login/sso/callback" // never contacted: the test stops at it

func startProvider(t *testing.T) (*oidctest.Provider, *sso.Client) {
	idp := oidctest.Start(t, oidctest.Options{ClientSecret: "s3cret", RedirectURL: redirect, Users: []oidctest.User{
		{Name: "carol", Password: "carol-pw", MFA: true, Groups: []string{"Security Team", "sre"}},
		{Name: "dave", Password: "dave-pw"},
	}})
	c, err := sso.New(sso.Config{Issuer: idp.Issuer, ClientID: "lockbox", ClientSecret: "s3cret", RedirectURL: redirect,
		MFA: sso.MFARule{Trust: true, AMR: []string{"mfa"}}, ClockSkew: time.Second, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return idp, c
}

var idField = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signIn signs who in at the provider, as a browser would, and returns
// the callback the provider sends back to the redirect URL.
func signIn(t *testing.T, c *sso.Client, who, password string) (*sso.Start, sso.Callback) {
	t.Helper()
	st, err := c.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	var back *url.URL
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), redirect) {
			back = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := hc.Get(st.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := idField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at the provider:\n%s", page)
	}
	res, err = hc.PostForm(res.Request.URL.Scheme+"://"+res.Request.URL.Host+"/login",
		url.Values{"id": {string(m[1])}, "username": {who}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if back == nil {
		t.Fatalf("the provider did not send the browser back: %s", res.Status)
	}
	q := back.Query()
	return st, sso.Callback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), Start: *st}
}

func TestSignInThroughARealProviderMapsTheIDToken(t *testing.T) {
	_, c := startProvider(t)
	_, cb := signIn(t, c, "carol", "carol-pw")
	id, err := c.Finish(t.Context(), cb)
	if err != nil {
		t.Fatal(err)
	}
	want := &sso.Identity{User: "carol", Issuer: c.Issuer(), Subject: "sub-carol", Groups: []string{"Security Team", "sre"},
		AMR: []string{"mfa", "otp", "pwd"}, MFA: true}
	if d := cmp.Diff(want, id, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Expiry" }, cmp.Ignore())); d != "" {
		t.Errorf("identity (-want +got):\n%s", d)
	}
	_, cb = signIn(t, c, "dave", "dave-pw")
	if id, err := c.Finish(t.Context(), cb); err != nil || id.MFA || id.Groups != nil {
		t.Fatalf("dave: %+v %v; want no MFA and no groups", id, err)
	}
}

func TestSignInRefusals(t *testing.T) {
	idp, c := startProvider(t)
	t.Run("forged state", func(t *testing.T) {
		_, cb := signIn(t, c, "carol", "carol-pw")
		cb.State = "forged-" + cb.State
		if _, err := c.Finish(t.Context(), cb); !errors.Is(err, sso.ErrState) {
			t.Fatalf("err = %v, want ErrState", err)
		}
	})
	t.Run("replayed code", func(t *testing.T) {
		_, cb := signIn(t, c, "carol", "carol-pw")
		if _, err := c.Finish(t.Context(), cb); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Finish(t.Context(), cb); !errors.Is(err, sso.ErrCode) {
			t.Fatalf("err = %v, want ErrCode", err)
		}
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		_, cb := signIn(t, c, "carol", "carol-pw")
		cb.Start.Verifier = "another-verifier-another-verifier-another-verifier"
		if _, err := c.Finish(t.Context(), cb); !errors.Is(err, sso.ErrCode) {
			t.Fatalf("err = %v, want ErrCode", err)
		}
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		_, cb := signIn(t, c, "carol", "carol-pw")
		cb.Start.Nonce = "not-this-sign-ins-nonce"
		if _, err := c.Finish(t.Context(), cb); !errors.Is(err, sso.ErrNonce) {
			t.Fatalf("err = %v, want ErrNonce", err)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		idp.Control(t, "another-client", 5*time.Minute)
		defer idp.Control(t, "", 5*time.Minute)
		_, cb := signIn(t, c, "carol", "carol-pw")
		if _, err := c.Finish(t.Context(), cb); !errors.Is(err, sso.ErrAudience) {
			t.Fatalf("err = %v, want ErrAudience", err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		idp.Control(t, "", -time.Minute)
		defer idp.Control(t, "", 5*time.Minute)
		_, cb := signIn(t, c, "carol", "carol-pw")
		if _, err := c.Finish(t.Context(), cb); !errors.Is(err, sso.ErrExpired) {
			t.Fatalf("err = %v, want ErrExpired", err)
		}
	})
}

func TestProviderUnreachableIsItsOwnRefusal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := sso.New(sso.Config{Issuer: "http://" + addr, ClientID: "lockbox", ClientSecret: "s", RedirectURL: redirect, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.Begin(ctx); !errors.Is(err, sso.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}
