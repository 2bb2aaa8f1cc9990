package route

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

// docsContext defines what the policy blocks of docs/notifications.md
// name besides their own section.
const docsContext = `users:
  - {name: carol, keys: ["KEY"], email: carol@example.com}
  - {name: tina, keys: ["KEY"], groups: [tenant], email: tina@customer.example}
groups:
  - name: tenant
teams:
  - {name: storage, members: [alice], managers: [carol], eligible: [{roles: [admin], resources: [db-1, customer-db]}]}
roles:
  - {name: admin, login: root, interactive: true, approval: {require: [{managers: true}]}}
resources:
  - {name: db-1, address: "10.0.0.1:22", tags: [prod]}
  - {name: customer-db, address: "10.0.0.2:22", approval: {require: [{group: tenant}]}}
`

var docsBlockRE = regexp.MustCompile("(?s)<!-- policy: ([a-z]+) -->\n```yaml\n(.*?)```\n")

// Every policy block docs/notifications.md shows parses, builds its
// channels once its secrets exist, and routes a pending request.
func TestTheDocumentedPolicyBlocksWork(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := docsBlockRE.FindAllStringSubmatch(string(doc), -1)
	var names []string
	for _, b := range blocks {
		names = append(names, b[1])
	}
	slices.Sort(names)
	if want := "email setup slack teams webhook"; strings.Join(names, " ") != want {
		t.Fatalf("policy blocks %v, want %s", names, want)
	}
	// The references point into /etc/lockbox/ and the environment: make
	// them exist here.
	dir := t.TempDir()
	for _, f := range []string{"smtp.password", "ops-slack.url", "siem.secret"} {
		content := map[string]string{"ops-slack.url": "https://hooks.slack.com/services/T0/B0/x", "siem.secret": "0123456789abcdef0123456789abcdef"}[f]
		if content == "" {
			content = "password"
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("LOCKBOX_TEAMS_URL", "https://example.webhook.office.com/workflows/x?sig=y")
	for _, b := range blocks {
		t.Run(b[1], func(t *testing.T) {
			block := strings.ReplaceAll(b[2], "file:/etc/lockbox/", "file:"+dir+"/")
			block = strings.ReplaceAll(block, `"ssh-ed25519 AAAA... alice@laptop"`, `"KEY"`)
			files := map[string]string{"docs.yaml": block, "context.yaml": docsContext}
			if !strings.Contains(block, "name: alice") {
				files["alice.yaml"] = "users:\n  - {name: alice, keys: [\"KEY\"], email: alice@example.com}\n"
			}
			p := parse(t, files)
			chans, err := Channels(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n := p.Notifications; b[1] == "setup" && (len(n.Endpoints) != 4 || len(n.Routes) != 7) {
				t.Errorf("the setup has %d endpoints and %d routes; the page says 4 and 7", len(n.Endpoints), len(n.Routes))
			}
			if len(chans) != len(p.Notifications.Endpoints) || len(chans) == 0 {
				t.Errorf("%d channels for %d endpoints", len(chans), len(p.Notifications.Endpoints))
			}
			m := request(notify.RequestPending, "admin", "db-1")
			m.To = named("carol")
			for _, tg := range New(p).Route(m) {
				if chans[tg.Endpoint] == nil {
					t.Errorf("routed to %s, which has no channel", tg.Endpoint)
				}
			}
		})
	}
}
