package route

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// people is the policy the routing tests use: alice and bob request
// through team storage, carol manages it, dave is in security (the
// auditors), and the customer's tenant administrators tina and olga
// approve on customer-db.
const people = `settings:
  auditors: [security]
users:
  - {name: alice, keys: ["KEY"], email: alice@example.com}
  - {name: bob, keys: ["KEY"]}
  - {name: carol, keys: ["KEY"], email: carol@example.com}
  - {name: dave, keys: ["KEY"], groups: [security], email: dave@example.com}
  - {name: tina, keys: ["KEY"], groups: [tenant], email: tina@customer.example}
  - {name: olga, keys: ["KEY"], groups: [tenant]}
groups:
  - name: security
  - name: tenant
teams:
  - name: storage
    members: [alice, bob]
    managers: [carol]
    eligible:
      - {roles: [reader, admin], resources: ["tag:storage", customer-db]}
roles:
  - {name: reader, login: ops, approval: {require: [{managers: true}]}}
  - {name: admin, login: root, interactive: true, approval: {require: [{managers: true}, {group: security}]}}
resources:
  - {name: db-1, address: "10.0.0.1:22", tags: [storage, prod]}
  - name: customer-db
    address: "10.0.0.2:22"
    tags: [customer]
    approval: {require: [{group: tenant}]}
`

// routes sends every request and grant event to the people by email,
// pending requests on prod to ops-slack, sessions on the customer's
// resource to its approvers, every session to the SIEM, revocations of
// admin grants to both chats, and dead messages to the SIEM.
const routes = `notifications:
  endpoints:
    - {name: mail, kind: email, smtp: {host: smtp.example.com, from: lockbox@example.com}}
    - {name: ops-slack, kind: slack, url_secret: "env:TEST_SLACK_URL"}
    - {name: teams, kind: teams, url_secret: "env:TEST_TEAMS_URL"}
    - {name: siem, kind: webhook, url: "https://siem.example.com/", secret: "env:TEST_SIEM_SECRET"}
  routes:
    - events: [request.pending, request.decided, request.expired, grant.started, grant.ending_soon, grant.ended, grant.revoked]
      endpoints: [mail]
    - {events: [request.pending], tags: [prod], to: channel, endpoints: [ops-slack]}
    - {events: [session.started, session.ended], resources: [customer-db], endpoints: [mail]}
    - {events: [session.started, session.ended], to: channel, endpoints: [siem]}
    - {events: [grant.revoked], roles: [admin], endpoints: [ops-slack, teams]}
    - {events: [message.dead], to: channel, endpoints: [siem]}
    - {events: [request.escalated, eligibility.ending, user.deprovisioned], endpoints: [mail]}
    - {events: [eligibility.ending], roles: [admin], to: channel, endpoints: [teams]}
    - {events: [break_glass], endpoints: [mail]}
    - {events: [break_glass], to: channel, endpoints: [siem]}
`

// parse parses files (name -> text) with KEY replaced by a fresh key each
// time it appears.
func parse(t testing.TB, files map[string]string) *policy.Policy {
	t.Helper()
	raw := map[string][]byte{}
	for name, text := range files {
		var b strings.Builder
		parts := strings.Split(text, "KEY")
		for i, part := range parts {
			b.WriteString(part)
			if i < len(parts)-1 {
				b.WriteString(newKey(t))
			}
		}
		raw[name] = []byte(b.String())
	}
	p, err := policy.Parse(raw)
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	return p
}

func newKey(t testing.TB) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// lineOf returns "FILE:LINE" of the first line of text that contains s.
func lineOf(t *testing.T, file, text, s string) string {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			return fmt.Sprintf("%s:%d", file, i+1)
		}
	}
	t.Fatalf("%q not in %s", s, file)
	return ""
}
