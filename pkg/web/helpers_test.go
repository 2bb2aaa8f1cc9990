package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/secretbox"
	"github.com/lockbox-ssh/lockbox/pkg/store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/totp"
	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

var ctx = context.Background()

// clock is a settable clock shared by the workflow and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// memRecordings keeps recordings in memory.
type memRecordings struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memRecordings) Put(id string, r io.Reader, max int64) (int64, string, error) {
	b, err := io.ReadAll(io.LimitReader(r, max))
	if err != nil {
		return 0, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[id] = b
	sum := sha256.Sum256(b) // the CA checks it when the recording is read
	return int64(len(b)), hex.EncodeToString(sum[:]), nil
}

func (m *memRecordings) Get(id string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return io.NopCloser(bytes.NewReader(m.data[id])), nil
}

// fixture is a workflow on SQLite with the example policy and a stopped
// clock, and the web form in front of it.
type fixture struct {
	t       *testing.T
	svc     *workflow.Service
	st      store.Store
	clock   *clock
	policy  *policy.Holder
	recs    *memRecordings
	srv     *httptest.Server
	secrets map[string][]byte
}

const password = "correct horse battery"

func signer(t *testing.T) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s
}

func newFixture(t *testing.T, cfg web.Config) *fixture {
	t.Helper()
	pol, err := policy.LoadDir(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := secretbox.New(make([]byte, 32))
	c := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	holder := policy.NewHolder(pol)
	recs := &memRecordings{data: map[string][]byte{}}
	svc, err := workflow.New(workflow.Config{Store: st, Policy: holder, UserCA: signer(t), HopCA: signer(t),
		HostCA: signer(t), Secrets: box, Clock: c.Now, PendingTimeout: 24 * time.Hour,
		Recordings: recs})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workflow, cfg.Clock = svc, c.Now
	ui, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, svc: svc, st: st, clock: c, policy: holder, secrets: map[string][]byte{}, recs: recs}
	f.srv = httptest.NewServer(ui)
	t.Cleanup(f.srv.Close)
	return f
}

// person enrolls who in TOTP and sets their password.
func (f *fixture) person(who string) {
	f.t.Helper()
	uri, err := f.svc.EnrollMFA(ctx, workflow.UserActor(who), "")
	if err != nil {
		f.t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.secrets[who] = secret
	if err := f.svc.SetPassword(ctx, workflow.UserActor(who), password); err != nil {
		f.t.Fatal(err)
	}
}

// code is who's current TOTP code; the clock moves a step on, so the next
// code differs (a code works once).
func (f *fixture) code(who string) string {
	f.clock.Advance(30 * time.Second)
	return totp.Code(f.secrets[who], totp.Step(f.clock.Now()))
}

// codeNow is who's code at the clock's current step.
func (f *fixture) codeNow(who string) string {
	return totp.Code(f.secrets[who], totp.Step(f.clock.Now()))
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	f   *fixture
	hc  *http.Client
	hdr http.Header // extra headers on every request
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, hdr: http.Header{}, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
	close  bool // the server closes the connection after the answer
}

func (b *browser) do(method, path string, form url.Values) response {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.hdr {
		req.Header[k] = v
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(data), res.Close}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) response {
	return b.do(http.MethodPost, path, form)
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	digestRe = regexp.MustCompile(`name="digest" value="([^"]+)"`)
)

func field(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", re, body)
	}
	return m[1]
}

// tryLogin submits the login form.
func (b *browser) tryLogin(who, pw, code string) response {
	b.f.t.Helper()
	page := b.get("/ui/login")
	return b.post("/ui/login", url.Values{"csrf": {field(b.f.t, csrfRe, page.body)}, "user": {who}, "password": {pw}, "code": {code}, "next": {"/ui/"}})
}

// login logs who in and returns the session's form token.
func (b *browser) login(who string) string {
	b.f.t.Helper()
	res := b.tryLogin(who, password, b.f.code(who))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/ui/" {
		b.f.t.Fatalf("login as %s: %d %s\n%s", who, res.status, res.header.Get("Location"), res.body)
	}
	home := b.get("/ui/")
	if home.status != http.StatusOK {
		b.f.t.Fatalf("home after login: %d", home.status)
	}
	return field(b.f.t, csrfRe, home.body)
}

func (f *fixture) submit(who, role, reason, ticket string) *store.Request {
	f.t.Helper()
	r, err := f.svc.Submit(ctx, workflow.UserActor(who), workflow.Submission{Role: role, Resources: []string{"db-1"},
		Duration: time.Hour, Reason: reason, Ticket: ticket})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) state(id string) store.State {
	f.t.Helper()
	return f.request(id).State
}

func (f *fixture) approvals(id string) int {
	f.t.Helper()
	var n int
	if err := f.st.View(ctx, func(tx store.Tx) error {
		as, err := tx.Approvals(id)
		n = len(as)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
