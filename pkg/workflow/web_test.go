package workflow_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

func TestPasswordHashRoundTripAndFormat(t *testing.T) {
	h, err := workflow.HashPassword("correct horse battery", workflow.DefaultPasswordParams, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("hash %q", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := workflow.CheckPassword(h, pw); err != nil || ok != want {
			t.Errorf("%q: %v %v, want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, err := workflow.CheckPassword(bad, "x"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSetPasswordChecksLengthAndAudits(t *testing.T) {
	e := newEnv(t, nil)
	for _, pw := range []string{"short", strings.Repeat("x", 257), "twelve chars\x1b[31m"} {
		requireErr(t, e.svc.SetPassword(ctx, user("carol"), pw), workflow.ErrBadInput)
	}
	requireErr(t, e.svc.SetPassword(ctx, workflow.BastionActor("bastion-1"), "long enough password"), workflow.ErrForbidden)
	if err := e.svc.SetPassword(ctx, user("carol"), "long enough password"); err != nil {
		t.Fatal(err)
	}
	acts := e.actions("carol")
	if len(acts) != 4 || acts[3] != "password.set" {
		t.Fatalf("audit: %v", acts)
	}
}

// webPerson enrolls who and sets a password; it returns the otpauth URI.
func webPerson(t *testing.T, e *env, who string) string {
	t.Helper()
	uri, err := e.svc.EnrollMFA(ctx, user(who), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword(ctx, user(who), "long enough password"); err != nil {
		t.Fatal(err)
	}
	return uri
}

func login(e *env, who, pw, code, addr string) (*workflow.WebLogin, error) {
	return e.svc.WebLogin(ctx, workflow.WebLoginInput{User: who, Password: pw, Code: code, Addr: addr, Idle: 10 * time.Minute, Absolute: time.Hour})
}

func TestWebLoginNeedsPasswordAndASingleUseCode(t *testing.T) {
	e := newEnv(t, nil)
	uri := webPerson(t, e, "carol")
	code := codeFromURI(t, uri, e.clock.Now())
	_, err := login(e, "carol", "wrong password!", code, "192.0.2.1")
	requireErr(t, err, workflow.ErrLoginFailed)
	_, err = login(e, "nobody", "long enough password", code, "192.0.2.1")
	requireErr(t, err, workflow.ErrLoginFailed)
	l, err := login(e, "carol", "long enough password", code, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Session.User != "carol" || l.Session.TokenHash != workflow.TokenHash(l.Token) || l.Session.CSRF == "" || l.Token == l.Session.CSRF {
		t.Fatalf("session %+v", l.Session)
	}
	// The same code again is refused: codes are single use.
	_, err = login(e, "carol", "long enough password", code, "192.0.2.1")
	requireErr(t, err, workflow.ErrLoginFailed)
	acts := e.actions("carol")
	want := []string{"web.login.failed", "web.login", "web.login.failed"}
	if got := acts[len(acts)-3:]; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit %v, want ... %v", acts, want)
	}
}

func TestWebLoginFailuresThrottledPerAccountAndAddressNotPerAddress(t *testing.T) {
	e := newEnv(t, nil)
	uri := webPerson(t, e, "carol")
	erinURI := webPerson(t, e, "erin")
	const pw = "long enough password"
	// Five failures for carol from one address block carol there, not erin.
	for range 5 {
		_, err := login(e, "carol", "wrong password!", "000000", "203.0.113.7")
		requireErr(t, err, workflow.ErrLoginFailed)
	}
	_, err := login(e, "carol", pw, codeFromURI(t, uri, e.clock.Now()), "203.0.113.7")
	requireErr(t, err, workflow.ErrThrottled)
	if _, err := login(e, "erin", pw, codeFromURI(t, erinURI, e.clock.Now()), "203.0.113.7"); err != nil {
		t.Fatalf("erin, from the address carol failed from: %v", err)
	}
	// Ten failures for carol in all, from anywhere, block carol everywhere.
	for i := range 5 {
		_, err := login(e, "carol", "wrong password!", "000000", "192.0.2."+string(rune('1'+i)))
		requireErr(t, err, workflow.ErrLoginFailed)
	}
	_, err = login(e, "carol", pw, codeFromURI(t, uri, e.clock.Now()), "198.51.100.9")
	requireErr(t, err, workflow.ErrThrottled)
	// Names the policy does not know are counted per address.
	for _, who := range []string{"u1", "u2", "u3", "u4", "u5"} {
		_, err := login(e, who, "wrong password!", "000000", "198.51.100.20")
		requireErr(t, err, workflow.ErrLoginFailed)
	}
	_, err = login(e, "u6", "wrong password!", "000000", "198.51.100.20")
	requireErr(t, err, workflow.ErrThrottled)
	// Throttling, not lockout: after the block, the right login works.
	e.clock.Advance(time.Minute)
	if _, err := login(e, "carol", pw, codeFromURI(t, uri, e.clock.Now()), "198.51.100.9"); err != nil {
		t.Fatal(err)
	}
}

func TestWebSessionIdleAndAbsoluteExpiryAtTheEdges(t *testing.T) {
	e := newEnv(t, nil)
	uri := webPerson(t, e, "carol")
	l, err := login(e, "carol", "long enough password", codeFromURI(t, uri, e.clock.Now()), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	idle := 10 * time.Minute
	e.clock.Advance(idle - time.Microsecond)
	if _, err := e.svc.WebSession(ctx, l.Token, idle); err != nil {
		t.Fatalf("just before the idle timeout: %v", err)
	}
	e.clock.Advance(idle)
	_, err = e.svc.WebSession(ctx, l.Token, idle)
	requireErr(t, err, workflow.ErrWebSession)
	// Gone for good, even if the clock went back.
	e.clock.Advance(-idle)
	_, err = e.svc.WebSession(ctx, l.Token, idle)
	requireErr(t, err, workflow.ErrWebSession)

	e.clock.Advance(time.Minute)
	l, err = login(e, "carol", "long enough password", codeFromURI(t, uri, e.clock.Now()), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	end := l.Session.Expires
	for e.clock.Now().Add(9 * time.Minute).Before(end) {
		e.clock.Advance(9 * time.Minute)
		if _, err := e.svc.WebSession(ctx, l.Token, idle); err != nil {
			t.Fatalf("in use: %v", err)
		}
	}
	e.clock.Advance(end.Sub(e.clock.Now()))
	_, err = e.svc.WebSession(ctx, l.Token, idle)
	requireErr(t, err, workflow.ErrWebSession)

	_, err = e.svc.WebSession(ctx, "not a token", idle)
	requireErr(t, err, workflow.ErrWebSession)
}

func TestSettingAPasswordEndsWebSessions(t *testing.T) {
	e := newEnv(t, nil)
	uri := webPerson(t, e, "carol")
	l, err := login(e, "carol", "long enough password", codeFromURI(t, uri, e.clock.Now()), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword(ctx, user("carol"), "another long password"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.WebSession(ctx, l.Token, time.Minute)
	requireErr(t, err, workflow.ErrWebSession)
}
