package scim_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/scim"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

const token = "a-directory-token-of-forty-bytes-or-more-0123"

type env struct {
	t   *testing.T
	srv *httptest.Server
	svc *workflow.Service
	st  store.Store
}

func newSigner(t *testing.T) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil, nil)
}

// newEnvWith is newEnv with the Config changed by change and the
// listener wrapped by wrap (either may be nil).
func newEnvWith(t *testing.T, change func(*scim.Config), wrap func(net.Listener) net.Listener) *env {
	t.Helper()
	pol, err := policy.LoadDir(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	g := *pol.Groups["security"]
	g.IDPGroup = "Security Team"
	pol.Groups["security"] = &g
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := secretbox.New(make([]byte, 32))
	svc, err := workflow.New(workflow.Config{Store: st, Policy: policy.NewHolder(pol), UserCA: newSigner(t), HopCA: newSigner(t),
		HostCA: newSigner(t), Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	cfg := scim.Config{Directory: svc, Token: []byte(token)}
	if change != nil {
		change(&cfg)
	}
	h, err := scim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, svc: svc, st: st}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) call(method, path, body string) answer {
	e.t.Helper()
	return e.callWith(method, path, body, "Bearer "+token)
}

func (e *env) callWith(method, path, body, auth string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return a
}

// must fails the test unless the answer has status.
func (a answer) must(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	return a
}

func (a answer) str(key string) string { s, _ := a.body[key].(string); return s }

func (e *env) actions() []string {
	var out []string
	if err := e.st.View(context.Background(), func(tx store.Tx) error {
		rows, err := tx.Audit(0, 10000)
		for _, r := range rows {
			out = append(out, r.Action+" "+r.Subject)
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) hasAction(want string) bool {
	for _, a := range e.actions() {
		if strings.HasPrefix(a, want) {
			return true
		}
	}
	return false
}

const aliceBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Alice","externalId":"e-1",
	"name":{"givenName":"Alice","familyName":"A"},"emails":[{"value":"alice@example.com","primary":true}],"active":true}`

// A user is created, found by id and by userName in any case, updated
// with PUT and PATCH (Okta's and Entra ID's shapes), and deactivated.
func TestUsersAreCreatedFoundUpdatedAndDeactivated(t *testing.T) {
	e := newEnv(t)
	created := e.call("POST", "/scim/v2/Users", aliceBody).must(t, http.StatusCreated)
	id := created.str("id")
	if created.str("userName") != "alice" || created.body["active"] != true || created.header.Get("Location") != e.srv.URL+"/scim/v2/Users/"+id {
		t.Fatalf("created: %s (Location %q)", created.raw, created.header.Get("Location"))
	}
	e.call("POST", "/scim/v2/Users", `{"userName":"ALICE"}`).must(t, http.StatusConflict)
	if got := e.call("GET", "/scim/v2/Users/"+id, "").must(t, http.StatusOK); got.str("externalId") != "e-1" {
		t.Fatalf("get: %s", got.raw)
	}
	list := e.call("GET", `/scim/v2/Users?filter=userName+eq+%22ALICE%22`, "").must(t, http.StatusOK)
	if list.body["totalResults"] != 1.0 {
		t.Fatalf("filter: %s", list.raw)
	}
	if none := e.call("GET", `/scim/v2/Users?filter=userName+eq+%22nobody%22`, "").must(t, http.StatusOK); none.body["totalResults"] != 0.0 {
		t.Fatalf("filter for nobody: %s", none.raw)
	}
	put := e.call("PUT", "/scim/v2/Users/"+id, `{"userName":"alice","displayName":"Alice A"}`).must(t, http.StatusOK)
	if put.str("displayName") != "Alice A" || put.body["active"] != true || put.str("externalId") != "" {
		t.Fatalf("put: %s", put.raw)
	}
	// Entra ID: capitalised op, a path, and active as a string.
	e.call("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"displayName","value":"A. Alice"},
		{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@example.com"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"carol"}]}`).must(t, http.StatusOK)
	// Okta: a value object without a path.
	off := e.call("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).must(t, http.StatusOK)
	if off.body["active"] != false || off.str("displayName") != "A. Alice" {
		t.Fatalf("deactivated: %s", off.raw)
	}
	for _, want := range []string{"directory.user.created alice", "directory.user.changed alice", "user.deprovisioned alice"} {
		if !e.hasAction(want) {
			t.Errorf("no audit row %q in %v", want, e.actions())
		}
	}
	on := e.call("PATCH", "/scim/v2/Users/"+id, `{"Operations":[{"op":"replace","path":"active","value":"True"}]}`).must(t, http.StatusOK)
	if on.body["active"] != true {
		t.Fatalf("reactivated: %s", on.raw)
	}
	e.call("DELETE", "/scim/v2/Users/"+id, "").must(t, http.StatusNoContent)
	e.call("GET", "/scim/v2/Users/"+id, "").must(t, http.StatusNotFound)
	e.call("DELETE", "/scim/v2/Users/"+id, "").must(t, http.StatusNotFound)
}

// Groups are created with members, have members added and removed the
// ways directories send it, and bind to policy groups by name, so the
// directory decides who approves.
func TestGroupChangesFollowTheDirectoryIntoApproverRights(t *testing.T) {
	e := newEnv(t)
	dave := e.call("POST", "/scim/v2/Users", `{"userName":"dave","active":true}`).must(t, http.StatusCreated).str("id")
	bob := e.call("POST", "/scim/v2/Users", `{"userName":"bob","active":true}`).must(t, http.StatusCreated).str("id")
	g := e.call("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Security Team",
		"members":[{"value":"`+dave+`","display":"dave"}]}`).must(t, http.StatusCreated)
	gid := g.str("id")
	isSecurity := func(who string) bool {
		r, err := e.svc.Submit(context.Background(), workflow.UserActor("alice"), workflow.Submission{Role: "admin", Resources: []string{"db-1"},
			Duration: time.Hour, Reason: "checking " + who, Ticket: "INC-1"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.Get(context.Background(), workflow.UserActor(who), r.ID)
		if _, err := e.svc.Deny(context.Background(), workflow.UserActor("alice"), r.ID, "done checking"); err != nil {
			t.Fatal(err)
		}
		return err == nil && v.CanApprove
	}
	if !isSecurity("dave") || isSecurity("bob") {
		t.Fatal("after creation only dave should approve for security")
	}
	// Entra ID adds with a path; Okta removes with a filter.
	e.call("PATCH", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"value":"`+bob+`"}]}]}`).must(t, http.StatusOK)
	e.call("PATCH", "/scim/v2/Groups/"+gid, `{"Operations":[{"op":"remove","path":"members[value eq \"`+dave+`\"]"}]}`).must(t, http.StatusOK)
	if isSecurity("dave") || !isSecurity("bob") {
		t.Fatal("after the changes only bob should approve for security")
	}
	found := e.call("GET", `/scim/v2/Groups?filter=displayName+eq+%22security+team%22&excludedAttributes=members`, "").must(t, http.StatusOK)
	if found.body["totalResults"] != 1.0 || strings.Contains(found.raw, bob) {
		t.Fatalf("filter, members left out: %s", found.raw)
	}
	member := e.call("GET", `/scim/v2/Groups?filter=id+eq+%22`+gid+`%22+and+members+eq+%22`+bob+`%22`, "").must(t, http.StatusOK)
	if member.body["totalResults"] != 1.0 {
		t.Fatalf("membership query: %s", member.raw)
	}
	e.call("PUT", "/scim/v2/Groups/"+gid, `{"displayName":"Security Team","members":[]}`).must(t, http.StatusOK)
	if isSecurity("bob") {
		t.Fatal("PUT without members left bob in")
	}
	e.call("DELETE", "/scim/v2/Groups/"+gid, "").must(t, http.StatusNoContent)
	for _, want := range []string{"directory.group.created Security Team", "directory.group.changed Security Team", "directory.group.deleted Security Team"} {
		if !e.hasAction(want) {
			t.Errorf("no audit row %q", want)
		}
	}
}

// Bad input is refused with a SCIM error, audited, and changes nothing.
func TestBadInputIsRefusedAuditedAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	id := e.call("POST", "/scim/v2/Users", `{"userName":"alice"}`).must(t, http.StatusCreated).str("id")
	for _, tc := range []struct {
		name, method, path, body, scimType string
	}{
		{"a name given twice", "POST", "/scim/v2/Users", `{"userName":"bob","userName":"carol"}`, "invalidSyntax"},
		{"a case variant of a kept attribute", "POST", "/scim/v2/Users", `{"userName":"bob","Active":false}`, "invalidSyntax"},
		{"a case variant beside the attribute", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"replace","value":{"active":true,"ACTIVE":false}}]}`, "invalidSyntax"},
		{"a name twice inside an ignored attribute", "POST", "/scim/v2/Users", `{"userName":"bob","name":{"givenName":"a","givenName":"b"}}`, "invalidSyntax"},
		{"no userName", "POST", "/scim/v2/Users", `{"active":true}`, "invalidValue"},
		{"a control character", "POST", "/scim/v2/Users", `{"userName":"bo\u001bb"}`, "invalidValue"},
		{"active of the wrong type", "POST", "/scim/v2/Users", `{"userName":"bob","active":"yes"}`, "invalidValue"},
		{"not an object", "POST", "/scim/v2/Users", `["userName"]`, "invalidSyntax"},
		{"an unknown op", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"merge","path":"active","value":false}]}`, "invalidValue"},
		{"removing active", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"remove","path":"active"}]}`, "mutability"},
		{"a bad path", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"replace","path":"active[[","value":false}]}`, "invalidPath"},
		{"active as a word", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"replace","path":"active","value":"no"}]}`, "invalidValue"},
		{"an unsupported filter", "GET", `/scim/v2/Users?filter=userName+co+%22a%22`, "", "invalidFilter"},
		{"a member who is no user", "POST", "/scim/v2/Groups", `{"displayName":"G","members":[{"value":"u-nobody"}]}`, "invalidValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(tc.method, tc.path, tc.body).must(t, http.StatusBadRequest)
			if a.str("scimType") != tc.scimType || a.str("status") != "400" || a.str("detail") == "" {
				t.Fatalf("error body: %s, want scimType %s", a.raw, tc.scimType)
			}
		})
	}
	if u, err := e.svc.DirectoryUser(context.Background(), id); err != nil || !u.Active || u.Version != 1 {
		t.Fatalf("alice changed: %+v %v", u, err)
	}
	if _, _, err := e.svc.DirectoryUsers(context.Background(), 0, 10); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range e.actions() {
		if strings.HasPrefix(a, "directory.refused") {
			n++
		}
	}
	if n != 14 {
		t.Fatalf("%d refusals audited, want 14: %v", n, e.actions())
	}
	e.call("POST", "/scim/v2/Users", strings.Repeat(" ", scim.DefaultMaxBody+1)).must(t, http.StatusRequestEntityTooLarge)
	e.call("GET", "/scim/v2/Schemas", "").must(t, http.StatusNotFound)
}

// Without the token nothing is read or changed, and the refusals are
// counted, not audited one by one.
func TestCallsWithoutTheTokenAreRefusedAndCounted(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x"} {
		a := e.callWith("POST", "/scim/v2/Users", `{"userName":"mallory"}`, auth).must(t, http.StatusUnauthorized)
		if a.header.Get("WWW-Authenticate") == "" || a.str("status") != "401" {
			t.Fatalf("%q: %s", auth, a.raw)
		}
	}
	if _, err := e.svc.FindDirectoryUser(context.Background(), "mallory"); err == nil {
		t.Fatal("an unauthenticated call created a user")
	}
	if len(e.actions()) != 0 {
		t.Fatalf("refusals audited one by one: %v", e.actions())
	}
	if rows, err := e.svc.FlushAnonymousRefusals(context.Background(), nil); err != nil || rows != 1 {
		t.Fatalf("flush: %d rows, %v; want one row for the source", rows, err)
	}
}

func TestServiceProviderConfigSaysWhatIsSupported(t *testing.T) {
	e := newEnv(t)
	a := e.call("GET", "/scim/v2/ServiceProviderConfig", "").must(t, http.StatusOK)
	if !strings.Contains(a.raw, `"patch": {`) || a.body["patch"].(map[string]any)["supported"] != true {
		t.Fatalf("%s", a.raw)
	}
}

func TestAShortTokenRefusesToStart(t *testing.T) {
	if _, err := scim.New(scim.Config{Directory: &workflow.Service{}, Token: []byte("short")}); err == nil {
		t.Fatal("a 5-byte token was accepted")
	}
}
