package api_test

import (
	"encoding/base32"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// Through the API: a request for a window 8h ahead, approved now with a
// shorter duration, shows its start and the shortened grant; its
// certificate is refused until the window opens, saying when.
func TestScheduledShortenedGrantThroughTheAPI(t *testing.T) {
	s := newServer(t)
	alice, carol := s.client(t, "user:alice"), s.client(t, "user:carol")
	req, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "2h", Reason: "maintenance", Start: "+8h"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Start == nil || time.Until(*req.Start) < 7*time.Hour {
		t.Fatalf("start %v, want about 8h from now", req.Start)
	}
	got, err := carol.ApproveWith(ctx, req.ID, wire.ApproveRequest{Reason: "an hour is enough", Duration: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "approved" || !got.NotBefore.Equal(*req.Start) || got.NotAfter.Sub(*got.NotBefore) != time.Hour ||
		got.GrantDuration != "1h0m0s" || got.Approvals[0].Duration != "1h0m0s" {
		t.Fatalf("approved %s %v..%v, grant %q, approvals %+v", got.State, got.NotBefore, got.NotAfter, got.GrantDuration, got.Approvals)
	}
	pub := string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey()))
	_, err = alice.Certificate(ctx, req.ID, pub)
	wantCode(t, err, http.StatusConflict, "window_not_open")
	if !strings.Contains(err.Error(), "the window opens at "+req.Start.UTC().Format(time.RFC3339)) {
		t.Fatalf("refusal %q does not say when", err)
	}
}

func TestBadStartsAndDurationsAreRefusedWithTheirCodes(t *testing.T) {
	s := newServer(t)
	alice, carol := s.client(t, "user:alice"), s.client(t, "user:carol")
	submit := func(start string) error {
		_, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "x", Start: start})
		return err
	}
	wantCode(t, submit("tomorrow"), http.StatusBadRequest, "bad_request")
	wantCode(t, submit("2020-01-01T00:00:00Z"), http.StatusUnprocessableEntity, "bad_start")
	wantCode(t, submit("+2000h"), http.StatusUnprocessableEntity, "bad_start")
	req, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"0s", "-5m", "2h", "soon"} {
		_, err := carol.ApproveWith(ctx, req.ID, wire.ApproveRequest{Duration: d})
		wantCode(t, err, http.StatusUnprocessableEntity, "bad_grant_duration")
	}
}

// A role with step_up_mfa: the certificate and the approval need the
// caller's current code in the body; without one the answer says so.
func TestStepUpCodeThroughTheAPI(t *testing.T) {
	s := newServer(t)
	s.policy.Get().Roles["reader"].StepUpMFA = true // as a reload would
	alice, carol := s.client(t, "user:alice"), s.client(t, "user:carol")
	uri, err := carol.EnrollMFA(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	req, err := alice.Submit(ctx, wire.SubmitRequest{Role: "reader", Resources: []string{"db-1"}, Duration: "1h", Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := carol.Get(ctx, req.ID); err != nil || !v.StepUpMFA {
		t.Fatalf("the request does not say it needs a code: %v", err)
	}
	_, err = carol.Approve(ctx, req.ID, "ok")
	wantCode(t, err, http.StatusForbidden, "mfa_required")
	_, err = carol.ApproveWith(ctx, req.ID, wire.ApproveRequest{Code: "000000"})
	wantCode(t, err, http.StatusForbidden, "mfa_code")
	if got, err := carol.ApproveWith(ctx, req.ID, wire.ApproveRequest{Code: currentCode(t, uri)}); err != nil || got.State != "approved" {
		t.Fatalf("with the current code: %v", err)
	}
	pub := string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey()))
	_, err = alice.Certificate(ctx, req.ID, pub)
	wantCode(t, err, http.StatusForbidden, "mfa_required")
	_, err = alice.CertificateWith(ctx, req.ID, wire.CertificateRequest{PublicKey: pub, Code: "000000"})
	wantCode(t, err, http.StatusConflict, "mfa_not_enrolled") // alice has no authenticator yet
}

// currentCode is the TOTP code an authenticator shows now for uri.
func currentCode(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return totp.Code(secret, totp.Step(time.Now()))
}
