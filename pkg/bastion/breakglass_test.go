package bastion

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/breakglass"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// glassCert signs a break-glass certificate for key, for bastion name
// with identity bastionKey, as ca break-glass does.
func glassCert(t *testing.T, tb *testBastion, key ssh.Signer, name string, bastionKey ssh.PublicKey) ssh.Signer {
	t.Helper()
	c, _, err := breakglass.Issue(breakglass.Request{User: "alice", Reason: "CA down", Role: "admin", Resource: "db-1",
		Duration: 10 * time.Minute, Key: key.PublicKey(), Login: "root", Address: "127.0.0.1:1", Bastion: name,
		BastionKey: bastionKey, Interactive: true}, tb.userCA, tb.hopCA, time.Now(), time.Minute, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(c, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A bastion refuses a break-glass certificate when break_glass is off,
// when it names another bastion, and when its hop certificate is for
// another identity key; each refusal says why and is reported.
func TestBreakGlassIsRefusedUnlessAllowedAndForThisBastion(t *testing.T) {
	identity := newKey(t)
	off := startBastionWith(t, func(c *Config) { c.Identity = identity })
	on := startBastionWith(t, func(c *Config) { c.BreakGlass, c.Identity = true, identity })
	for name, tc := range map[string]struct {
		tb         *testBastion
		bastion    string
		bastionKey ssh.PublicKey
		want       string
	}{
		"off":             {off, "b1", identity.PublicKey(), "break_glass: true"},
		"another bastion": {on, "b2", identity.PublicKey(), "it is for bastion b2"},
		"another key":     {on, "b1", newKey(t).PublicKey(), "not for this bastion"},
	} {
		var banner string
		_, err := ssh.Dial("tcp", tc.tb.addr, &ssh.ClientConfig{User: "db-1",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(glassCert(t, tc.tb, newKey(t), tc.bastion, tc.bastionKey))},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
			BannerCallback: func(m string) error { banner += m; return nil }})
		if err == nil {
			t.Errorf("%s: logged in", name)
			continue
		}
		if !strings.Contains(banner, tc.want) {
			t.Errorf("%s: banner %q, want %q", name, banner, tc.want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(people(off.ca)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling the condition, with a deadline
	}
	if r := people(off.ca); len(r) == 0 || r[0].KeyID != "break-glass/alice/db-1" || r[0].User != "alice" || r[0].RequestID != "" {
		t.Fatalf("reported refusals %+v", r)
	}
}

// people are the person refusals f was sent.
func people(f *fakeCA) []wire.BastionRefusal {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.BastionRefusal
	for _, r := range f.reported {
		out = append(out, r.Refusals...)
	}
	return out
}
