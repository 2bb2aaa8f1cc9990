package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scimToken writes a bearer token file and returns its path and token.
func scimToken(t *testing.T) (string, string) {
	b := make([]byte, 36)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	path := filepath.Join(t.TempDir(), "scim-token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, token
}

// scim sends a SCIM call to the CA with token and returns the status and
// the decoded answer.
func (c *ca) scim(token, method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+"/scim/v2"+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("SCIM %s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

// scimOK is scim that fails the test unless the status is want.
func (c *ca) scimOK(token string, want int, method, path, body string) map[string]any {
	c.t.Helper()
	status, out := c.scim(token, method, path, body)
	if status != want {
		c.t.Fatalf("SCIM %s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webSession logs who in to the web form over HTTP and returns a client
// holding the session cookie; it does not follow redirects.
func (w *world) webSession(who, code string) *http.Client {
	t := w.t
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(w.ca.url + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the login page:\n%s", page)
	}
	resp, err = client.PostForm(w.ca.url+"/ui/login", url.Values{"csrf": {string(m[1])}, "next": {"/ui/"}, "user": {who},
		"password": {webPassword}, "code": {code}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("web login of %s: %d to %q", who, resp.StatusCode, resp.Header.Get("Location"))
	}
	return client
}

// loggedIn reports whether client's web session still opens the pending
// list.
func (w *world) loggedIn(client *http.Client) bool {
	w.t.Helper()
	resp, err := client.Get(w.ca.url + "/ui/")
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// inKRL reports whether the CA's KRL revokes the certificate key-cert.pub.
func (w *world) inKRL(key string) bool {
	t := w.t
	t.Helper()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	resp, err := http.Get(w.ca.url + "/v1/krl")
	if err != nil {
		t.Fatal(err)
	}
	krl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	path := filepath.Join(t.TempDir(), "krl")
	if err := os.WriteFile(path, krl, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(keygen, "-Q", "-f", path, key+"-cert.pub").CombinedOutput()
	return err != nil && strings.Contains(string(out), "REVOKED")
}

// holdAll gives alice a web session, a pending request, and an admin
// grant (approved by carol and by dave, whom only the directory makes a
// member of security) with a session open through the bastion; it
// returns the ssh command running, its stderr, the grant's ID and key,
// the pending request and the web client.
type held struct {
	cmd             *exec.Cmd
	stderr          *syncBuffer
	grant, key, req string
	web             *http.Client
}

func (w *world) holdAll(b *bastionProc, approver string) held {
	t := w.t
	t.Helper()
	var h held
	w.enroll("alice")
	w.ca.setPassword("alice", webPassword)
	h.web = w.webSession("alice", w.code("alice", 0))
	if !w.loggedIn(h.web) {
		t.Fatal("alice's web session does not open the pending list")
	}
	h.req = strings.TrimSpace(w.ca.ok("alice", "request", "--role", "reader", "--resource", "db-2", "--duration", "1h", "--reason", "waiting"))
	h.grant = strings.TrimSpace(w.ca.ok("alice", "request", "--role", "admin", "--resource", "db-1", "--duration", "1h",
		"--reason", "integration test", "--ticket", "INC-1"))
	w.ca.ok("carol", "approve", h.grant)
	w.ca.ok(approver, "approve", h.grant)
	h.key = filepath.Join(t.TempDir(), "grant")
	w.ca.ok("alice", "cert", h.grant, "--out", h.key)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	h.cmd, _, h.stderr = w.ssh(ctx, b, h.key, w.code("alice", 1), nil, "sleep", "30")
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the session to open", func() bool { return len(w.openSessions()) == 1 })
	return h
}

// checkLost checks that alice lost everything h holds within 5 s of
// since, with reason, and that it is audited.
func (w *world) checkLost(h held, since time.Time, reason string) {
	t := w.t
	t.Helper()
	err := h.cmd.Wait()
	elapsed := time.Since(since)
	if !strings.Contains(h.stderr.String(), "session ended: grant revoked by "+reason) || h.cmd.ProcessState.ExitCode() != 203 {
		t.Fatalf("ssh: %v (want exit status 203), stderr %q", err, h.stderr.String())
	}
	if elapsed > 5*time.Second {
		t.Fatalf("the session ended %v after the change; the limit is 5s", elapsed)
	}
	t.Logf("the session ended %v after the change", elapsed.Round(time.Millisecond))
	if !w.inKRL(h.key) {
		t.Error("the grant's certificate is not in the KRL")
	}
	if w.loggedIn(h.web) {
		t.Error("alice's web session still opens the pending list")
	}
	audit := w.ca.ok("erin", "audit", "--json")
	for _, want := range []string{`"action":"user.deprovisioned","subject":"alice"`, `"action":"grant.revoked","subject":"` + h.grant,
		`"action":"request.withdrawn","subject":"` + h.req} {
		if !strings.Contains(strings.ReplaceAll(audit, " ", ""), want) {
			t.Errorf("no audit row with %s", want)
		}
	}
}

// The directory creates, updates and deactivates a person and changes a
// group through the real CA: the group makes dave an approver, and the
// deactivation ends alice's live session through the real bastion
// within 5 s with the reason, puts her certificate in the KRL, ends her
// web session, withdraws her pending request, and refuses her calls.
func TestSCIMDeactivationEndsTheLiveSessionWithinSeconds(t *testing.T) {
	tokenFile, token := scimToken(t)
	w := newWorld(t, worldOptions{caFlags: []string{"--scim_token_file", tokenFile}, editPolicy: func(name string, data []byte) []byte {
		if name == "people.yaml" {
			data = bytes.Replace(data, []byte("  - name: security\n"), []byte("  - name: security\n    idp_group: Security Team\n"), 1)
		}
		return data
	}})
	b := w.bastion(nil, "--mfa_remember", "1h")
	c := w.ca
	if status, _ := c.scim("wrong-token", "GET", "/Users", ""); status != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", status)
	}
	alice := c.scimOK(token, http.StatusCreated, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice","active":true}`)["id"].(string)
	dave := c.scimOK(token, http.StatusCreated, "POST", "/Users", `{"userName":"dave","active":true}`)["id"].(string)
	if got := c.scimOK(token, http.StatusOK, "PUT", "/Users/"+alice, `{"userName":"alice","displayName":"Alice","active":true}`); got["displayName"] != "Alice" {
		t.Fatalf("update: %v", got)
	}
	c.scimOK(token, http.StatusCreated, "POST", "/Groups", `{"displayName":"Security Team","members":[]}`)
	found := c.scimOK(token, http.StatusOK, "GET", `/Groups?filter=displayName%20eq%20%22Security%20Team%22`, "")
	gid := found["Resources"].([]any)[0].(map[string]any)["id"].(string)
	c.scimOK(token, http.StatusOK, "PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"add","path":"members","value":[{"value":"`+dave+`"}]}]}`)

	h := w.holdAll(b, "dave") // dave approves as security only through the directory group

	since := time.Now()
	c.scimOK(token, http.StatusOK, "PATCH", "/Users/"+alice, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`)
	w.checkLost(h, since, "directory: deactivated in the directory")
	c.refused("deactivated", "alice", "requests")
	if !strings.Contains(c.ok("erin", "audit", "--json"), "directory.group.changed") {
		t.Error("the group change is not audited")
	}
}

// A policy reload that removes a person takes everything from them, as
// the directory's deactivation does.
func TestPolicyReloadRemovingAPersonEndsTheirLiveSession(t *testing.T) {
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil, "--mfa_remember", "1h")
	h := w.holdAll(b, "frank")
	for name, edit := range map[string][2]string{
		"people.yaml": {"  - name: alice\n", "  - name: alice-gone\n"},
		"teams.yaml":  {"members: [alice, bob]", "members: [bob]"},
	} {
		path := filepath.Join(w.ca.policy, name)
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte(edit[0])) {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(path, bytes.Replace(data, []byte(edit[0]), []byte(edit[1]), 1), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now()
	if err := w.ca.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	w.checkLost(h, since, "policy: removed from the policy")
	if !strings.Contains(w.ca.log.String(), "deprovisioned a person removed from the policy") {
		t.Errorf("the CA's log does not say so:\n%s", w.ca.log.String())
	}
}

// A token file too short to be a secret refuses the start.
func TestCAWithAShortSCIMTokenRefusesToStart(t *testing.T) {
	t.Parallel()
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	short := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "ca"), "serve", "--data", c.dir, "--policy", c.policy, "--listen", "127.0.0.1:0", "--metrics_listen", "off", "--scim_token_file", short)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DSN="+c.dsn)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "at least 32") {
		t.Fatalf("ca serve with a 3-byte token: %v\n%s", err, out)
	}
}
