package bastion

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzLogin: any SSH user name against a certificate's principals never
// panics, and a principal is only ever one the certificate names, for the
// resource the user asked for.
func FuzzLogin(f *testing.F) {
	for _, s := range []string{"db-1", "admin@db-1", "", "@", "db-1@", "a@b@c", "*", "db-1\x00", strings.Repeat("a", 300)} {
		f.Add(s, "admin@db-1,reader@db-1")
	}
	f.Fuzz(func(t *testing.T, login, principals string) {
		cert := &ssh.Certificate{ValidPrincipals: strings.Split(principals, ",")}
		p, err := principalFor(cert, login)
		if err != nil {
			return
		}
		if strings.Contains(login, "@") {
			if p != login {
				t.Fatalf("login %q gave principal %q", login, p)
			}
			return
		}
		if !strings.HasSuffix(p, "@"+login) {
			t.Fatalf("login %q gave principal %q", login, p)
		}
		found := false
		for _, q := range cert.ValidPrincipals {
			found = found || q == p
		}
		if !found {
			t.Fatalf("principal %q is not in the certificate", p)
		}
	})
}

// FuzzChannelRequests: the payloads of pty-req, window-change and exec
// never panic the parsers, and what they accept is within bounds.
func FuzzChannelRequests(f *testing.F) {
	f.Add(ssh.Marshal(ptyRequest{Term: "xterm", Cols: 80, Rows: 24}))
	f.Add(ssh.Marshal(windowChange{Cols: 120, Rows: 40}))
	f.Add(ssh.Marshal(execRequest{Command: "uptime"}))
	f.Add([]byte{0, 0, 0, 5, 'x'})
	f.Add(ssh.Marshal(struct {
		Host     string
		Port     uint32
		Orig     string
		OrigPort uint32
	}{"10.0.0.1\x1b[2J", 5432, "127.0.0.1", 40000}))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if p, ok := parsePty(payload); ok && (p.Cols > 10000 || p.Rows > 10000 || len(p.Term) > 64) {
			t.Fatalf("pty out of bounds: %+v", p)
		}
		if w, ok := parseWindowChange(payload); ok && (w.Cols > 10000 || w.Rows > 10000) {
			t.Fatalf("window out of bounds: %+v", w)
		}
		if c, ok := parseExec(payload); ok && len(c) > maxCommand {
			t.Fatalf("command of %d bytes", len(c))
		}
		// What a refused forwarding asked for goes to the audit log:
		// short, printable ASCII (the CA refuses anything else).
		for _, kind := range []string{"direct-tcpip", "tcpip-forward", "subsystem", "streamlocal-forward@openssh.com"} {
			target := forwardTarget(kind, payload)
			if len(target) > 220 || strings.ContainsFunc(target, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				t.Fatalf("%s target %q", kind, target)
			}
		}
	})
}
