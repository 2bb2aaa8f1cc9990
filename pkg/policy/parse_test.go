package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// baseA and baseB make a small valid policy. KEYn stands for a distinct
// generated key; tests add or replace files and look for errors at exact
// lines, so keep the line numbers in mind when editing.
const baseA = `users:
  - name: alice
    keys: ["KEY1"]
    groups: [security]
  - name: bob
    keys: ["KEY2"]
  - name: carol
    keys: ["KEY3"]
groups:
  - name: security
bastions:
  - name: bastion-1
    keys: ["KEY4"]
    egress: ["10.0.0.1"]
`

const baseB = `teams:
  - name: storage
    members: [alice, bob]
    managers: [carol]
    eligible:
      - roles: [reader]
        resources: ["tag:storage"]
roles:
  - name: reader
    login: ops
    approval:
      require: [{managers: true}]
resources:
  - name: db-1
    address: 127.0.0.1:22
    tags: [storage]
`

// testKeys replaces KEYn and the other placeholders with real key lines.
type testKeys struct{ replacer *strings.Replacer }

var (
	keysOnce   sync.Once
	sharedKeys testKeys
)

// newTestKeys generates the keys once per test binary: RSA is slow.
func newTestKeys(t testing.TB) testKeys {
	keysOnce.Do(func() { sharedKeys = generateTestKeys(t) })
	return sharedKeys
}

func generateTestKeys(t testing.TB) testKeys {
	var pairs []string
	for i := 9; i >= 1; i-- { // KEY1 must not replace the start of a longer name
		pairs = append(pairs, fmt.Sprintf("KEY%d", i), authorizedKey(t))
	}
	pairs = append(pairs, "CERTKEY", certificateKey(t), "RSA1024", rsaKey(t, 1024),
		"RSA2048", rsaKey(t, 2048), "DSAKEY", dsaKey(t))
	return testKeys{strings.NewReplacer(pairs...)}
}

// files returns the base policy with extra files added (or replacing).
func (k testKeys) files(extra map[string]string) map[string][]byte {
	all := map[string]string{"a.yaml": baseA, "b.yaml": baseB}
	for name, text := range extra {
		all[name] = text
	}
	out := map[string][]byte{}
	for name, text := range all {
		out[name] = []byte(k.replacer.Replace(text))
	}
	return out
}

func TestExamplePolicyLoads(t *testing.T) {
	p, err := LoadDir("../../policy")
	if err != nil {
		t.Fatalf("example policy: %v", err)
	}
	for _, name := range []string{"reader", "admin", "health"} {
		if p.Roles[name] == nil {
			t.Errorf("example policy has no role %s", name)
		}
	}
	if got, want := p.ManagersOf("alice"), []string{"carol"}; !cmp.Equal(got, want) {
		t.Errorf("ManagersOf(alice) = %v, want %v", got, want)
	}
}

func TestParseBasePolicy(t *testing.T) {
	k := newTestKeys(t)
	p, err := Parse(k.files(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := &Role{
		Name: "reader", Login: "ops", MaxDuration: DefaultMaxDuration,
		Approval: Approval{Require: []Requirement{{Managers: true, Count: 1}}},
	}
	if diff := cmp.Diff(want, p.Roles["reader"]); diff != "" {
		t.Errorf("reader role (-want +got):\n%s", diff)
	}
	wantTeam := &Team{Name: "storage", Members: []string{"alice", "bob"}, Managers: []string{"carol"},
		Eligible: []Eligibility{{Roles: []string{"reader"}, Tags: []string{"storage"}}}}
	if diff := cmp.Diff(wantTeam, p.Teams["storage"]); diff != "" {
		t.Errorf("storage team (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&Group{Name: "security", Members: []string{"alice"}}, p.Groups["security"]); diff != "" {
		t.Errorf("security group (-want +got):\n%s", diff)
	}
	egress := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	if diff := cmp.Diff(egress, p.Bastions["bastion-1"].Egress, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("bastion egress (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Settings{3, 5, 4 * time.Hour, nil, DefaultCommandGate}, p.Settings); diff != "" {
		t.Errorf("default settings (-want +got):\n%s", diff)
	}
}

func TestParseSettingsAndDefaults(t *testing.T) {
	k := newTestKeys(t)
	p, err := Parse(k.files(map[string]string{"s.yaml": `settings:
  max_active_grants_per_user: 1
  max_pending_requests_per_user: 2
  default_max_duration: 90m
  auditors: [security]
roles:
  - name: short
    login: ops
    max_duration: 10m
    approval: {auto: true}
`}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Settings{1, 2, 90 * time.Minute, []string{"security"}, DefaultCommandGate}, p.Settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if !p.IsAuditor("alice") || p.IsAuditor("bob") {
		t.Error("IsAuditor: want alice (in security) only")
	}
	if got := p.Roles["reader"].MaxDuration; got != 90*time.Minute {
		t.Errorf("role without max_duration got %v, want the settings default 1h30m", got)
	}
	if got := p.Roles["short"].MaxDuration; got != 10*time.Minute {
		t.Errorf("role max_duration = %v, want 10m", got)
	}
}

// A role with allowed commands always runs them through the command gate:
// a role that names no force_command gets settings.command_gate, so the
// target's shell never sees the client's command.
func TestParseRoleWithAllowedCommandsAlwaysRunsThroughTheGate(t *testing.T) {
	k := newTestKeys(t)
	roles := `roles:
  - name: plain
    login: ops
    allowed_commands: [uptime]
    approval: {auto: true}
  - name: own-gate
    login: ops
    allowed_commands: [uptime]
    force_command: /opt/lockbox/bin/lockbox-gate
    approval: {auto: true}
  - name: any-command
    login: ops
    force_command: /usr/local/sbin/session-wrapper --log
    approval: {auto: true}
`
	tests := []struct {
		name     string
		settings string
		want     map[string]string // role: ForceCommand
	}{
		{"the default gate", "", map[string]string{
			"plain": DefaultCommandGate, "own-gate": "/opt/lockbox/bin/lockbox-gate", "any-command": "/usr/local/sbin/session-wrapper --log"}},
		{"the gate from settings", "settings:\n  command_gate: /srv/bin/lockbox-gate\n", map[string]string{
			"plain": "/srv/bin/lockbox-gate", "own-gate": "/opt/lockbox/bin/lockbox-gate", "any-command": "/usr/local/sbin/session-wrapper --log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The settings come after the roles, in a later file.
			p, err := Parse(k.files(map[string]string{"c.yaml": roles, "d.yaml": tt.settings}))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for name := range tt.want {
				got[name] = p.Roles[name].ForceCommand
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("force commands (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAcceptsEmptyFilesAndRSA2048(t *testing.T) {
	k := newTestKeys(t)
	_, err := Parse(k.files(map[string]string{
		"empty.yaml":    "",
		"comments.yaml": "# nothing yet\n",
		"doc.yaml":      "---\n",
		"rsa.yaml":      "users:\n  - name: rsa-user\n    keys: [\"RSA2048\"]\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
}

var errorLineRE = regexp.MustCompile(`^[a-z]+\.yaml:[0-9]+: \S`)

func TestParseErrors(t *testing.T) {
	k := newTestKeys(t)
	user := func(name string) string { return "users:\n  - name: " + name + "\n    keys: [\"KEY5\"]\n" }
	role := func(fields string) string { return "roles:\n  - name: r2\n" + fields }
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in the error
	}{
		{"unknown field in a user names file and line",
			map[string]string{"c.yaml": user("zed") + "    phone: \"+1 555 0100\"\n"},
			[]string{`c.yaml:4: user zed: unknown field "phone"`}},
		{"unknown top-level key",
			map[string]string{"c.yaml": "setings: {}\n"},
			[]string{`c.yaml:1: policy file: unknown field "setings"`}},
		{"unknown field in a requirement",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      require:\n        - {managers: true, cnt: 2}\n")},
			[]string{`c.yaml:6: role r2: approval: require: unknown field "cnt"`}},
		{"field given twice",
			map[string]string{"c.yaml": role("    login: ops\n    login: root\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: field "login" given twice (first at line 3)`}},
		{"duplicate name across two files names both places",
			map[string]string{"c.yaml": user("alice")},
			[]string{`c.yaml:2: user "alice" is defined twice: here and at a.yaml:2`}},
		{"duplicate name in one file",
			map[string]string{"c.yaml": "groups:\n  - name: g\n  - name: g\n"},
			[]string{`c.yaml:3: group "g" is defined twice: here and at c.yaml:2`}},
		{"team names unknown user",
			map[string]string{"c.yaml": "teams:\n  - name: t\n    members: [nobody]\n"},
			[]string{`c.yaml:3: team t: members: unknown user "nobody"`}},
		{"team names unknown manager",
			map[string]string{"c.yaml": "teams:\n  - name: t\n    managers: [nobody]\n"},
			[]string{`c.yaml:3: team t: managers: unknown user "nobody"`}},
		{"user names unknown group",
			map[string]string{"c.yaml": user("zed") + "    groups: [nogroup]\n"},
			[]string{`c.yaml:4: user zed: groups: unknown group "nogroup"`}},
		{"eligibility names unknown role, resource and tag",
			map[string]string{"c.yaml": "teams:\n  - name: t\n    eligible:\n      - roles: [norole]\n        resources: [nohost, \"tag:notag\"]\n"},
			[]string{`c.yaml:4: team t: eligible: roles: unknown role "norole"`,
				`c.yaml:5: team t: eligible: resources: unknown resource "nohost"`,
				`c.yaml:5: team t: eligible: resources: unknown tag "notag" (no resource has this tag)`}},
		{"requirement names unknown group",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      require:\n        - group: nogroup\n")},
			[]string{`c.yaml:6: role r2: approval: require: group: unknown group "nogroup"`}},
		{"bad duration",
			map[string]string{"c.yaml": role("    login: ops\n    max_duration: 2x\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: max_duration: bad duration "2x"`}},
		{"negative duration",
			map[string]string{"c.yaml": role("    login: ops\n    max_duration: -1h\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: max_duration: duration -1h must be positive`}},
		{"duration over a week",
			map[string]string{"c.yaml": role("    login: ops\n    max_duration: 169h\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: max_duration: duration 169h is over the limit of 168h0m0s`}},
		{"duration without unit",
			map[string]string{"c.yaml": "settings:\n  default_max_duration: 3600\n"},
			[]string{`c.yaml:2: settings: default_max_duration: bad duration "3600"`}},
		{"settings counts below one",
			map[string]string{"c.yaml": "settings:\n  max_active_grants_per_user: 0\n  max_pending_requests_per_user: x\n"},
			[]string{`c.yaml:2: settings: max_active_grants_per_user: must be at least 1`,
				`c.yaml:3: settings: max_pending_requests_per_user: expected a whole number, found "x"`}},
		{"auditors names unknown group",
			map[string]string{"c.yaml": "settings:\n  auditors: [nogroup]\n"},
			[]string{`c.yaml:2: settings: auditors: unknown group "nogroup"`}},
		{"settings given twice",
			map[string]string{"c.yaml": "settings: {}\n", "d.yaml": "\nsettings: {}\n"},
			[]string{`d.yaml:2: settings given twice: here and at c.yaml:1`}},
		{"bad key",
			map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: [\"ssh-ed25519 AAAAnotakey\"]\n"},
			[]string{`c.yaml:3: user zed: keys: not an SSH public key`}},
		{"certificate given as a key",
			map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: [\"CERTKEY\"]\n"},
			[]string{`c.yaml:3: user zed: keys: this is a certificate`}},
		{"weak RSA key",
			map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: [\"RSA1024\"]\n"},
			[]string{`c.yaml:3: user zed: keys: RSA key of 1024 bits is too weak`}},
		{"DSA key",
			map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: [\"DSAKEY\"]\n"},
			[]string{`c.yaml:3: user zed: keys: DSA keys are not allowed`}},
		{"key with options",
			map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: ['from=\"10.0.0.1\" KEY5']\n"},
			[]string{`c.yaml:3: user zed: keys: authorized_keys options are not allowed`}},
		{"user without keys",
			map[string]string{"c.yaml": "users:\n  - name: zed\n"},
			[]string{`c.yaml:2: user zed: keys needs at least one public key`}},
		{"key shared by a user and a bastion",
			map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: [\"KEY4\"]\n"},
			[]string{`c.yaml:3: user zed: keys: this key already belongs to bastion bastion-1 (a.yaml:13)`}},
		{"bad host key",
			map[string]string{"c.yaml": "resources:\n  - name: h\n    address: h:22\n    host_key: CERTKEY\n"},
			[]string{`c.yaml:4: resource h: host_key: this is a certificate`}},
		{"name with a star", map[string]string{"c.yaml": user("a*b")},
			[]string{`c.yaml:2: user name "a*b" is not valid`}},
		{"name with an at sign", map[string]string{"c.yaml": user("a@b")},
			[]string{`c.yaml:2: user name "a@b" is not valid`}},
		{"name in upper case", map[string]string{"c.yaml": user("A")},
			[]string{`c.yaml:2: user name "A" is not valid`}},
		{"name with a comma", map[string]string{"c.yaml": user(`"a,b"`)},
			[]string{`c.yaml:2: user name "a,b" is not valid`}},
		{"empty name", map[string]string{"c.yaml": user(`""`)},
			[]string{`c.yaml:2: user without a name`}},
		{"missing name", map[string]string{"c.yaml": "groups:\n  - description: x\n"},
			[]string{`c.yaml:2: group without a name`}},
		{"bad tag name", map[string]string{"c.yaml": "resources:\n  - name: h\n    address: h:22\n    tags: [\"Prod\"]\n"},
			[]string{`c.yaml:4: resource h: tags: tag "Prod" is not valid`}},
		{"bad login name", map[string]string{"c.yaml": role("    login: Root\n    approval: {auto: true}\n")},
			[]string{`c.yaml:3: role r2: login "Root" is not a valid account name`}},
		{"login starting with a digit", map[string]string{"c.yaml": role("    login: 1ops\n    approval: {auto: true}\n")},
			[]string{`c.yaml:3: role r2: login "1ops" is not a valid account name`}},
		{"missing login", map[string]string{"c.yaml": role("    approval: {auto: true}\n")},
			[]string{`c.yaml:2: role r2: login (the account on the target) is required`}},
		{"bad CIDR", map[string]string{"c.yaml": "bastions:\n  - name: b2\n    keys: [KEY5]\n    egress: [10.0.0.1/33]\n"},
			[]string{`c.yaml:4: bastion b2: egress "10.0.0.1/33": not a CIDR`}},
		{"CIDR with host bits", map[string]string{"c.yaml": "bastions:\n  - name: b2\n    keys: [KEY5]\n    egress: [10.0.0.1/8]\n"},
			[]string{`c.yaml:4: bastion b2: egress "10.0.0.1/8": host bits are set; did you mean 10.0.0.0/8?`}},
		{"bastion without egress", map[string]string{"c.yaml": "bastions:\n  - name: b2\n    keys: [KEY5]\n"},
			[]string{`c.yaml:2: bastion b2: egress needs at least one address`}},
		{"bastion named like a user", map[string]string{"c.yaml": "bastions:\n  - name: alice\n    keys: [KEY5]\n    egress: [10.0.0.2]\n"},
			[]string{`c.yaml:2: bastion "alice" has the same name as user "alice" at a.yaml:2`}},
		{"bad address", map[string]string{"c.yaml": "resources:\n  - name: h\n    address: h\n"},
			[]string{`c.yaml:3: resource h: address "h": expected host:port`}},
		{"bad port", map[string]string{"c.yaml": "resources:\n  - name: h\n    address: h:70000\n"},
			[]string{`c.yaml:3: resource h: address "h:70000": port "70000" must be a number from 1 to 65535`}},
		{"missing address", map[string]string{"c.yaml": "resources:\n  - name: h\n"},
			[]string{`c.yaml:2: resource h: address (host:port) is required`}},
		{"requirement with group and managers",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      require:\n        - {group: security, managers: true}\n")},
			[]string{`c.yaml:6: role r2: approval: require: give either group: NAME or managers: true, not both`}},
		{"requirement with neither group nor managers",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      require:\n        - {count: 2}\n")},
			[]string{`c.yaml:6: role r2: approval: require: needs group: NAME or managers: true`}},
		{"requirement count zero",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      require:\n        - {managers: true, count: 0}\n")},
			[]string{`c.yaml:6: role r2: approval: require: count must be at least 1`}},
		{"same approvers asked twice",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      require:\n        - {managers: true}\n        - {managers: true}\n")},
			[]string{`c.yaml:7: role r2: approval: require: the same approvers are asked for twice (first at line 6)`}},
		{"auto plus require",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      auto: true\n      require: [{managers: true}]\n")},
			[]string{`c.yaml:5: role r2: approval: auto: true and a require list exclude each other`}},
		{"approval with neither auto nor require",
			map[string]string{"c.yaml": role("    login: ops\n    approval:\n      auto: false\n")},
			[]string{`c.yaml:5: role r2: approval: needs auto: true or a non-empty require list`}},
		{"role without approval",
			map[string]string{"c.yaml": role("    login: ops\n")},
			[]string{`c.yaml:2: role r2: approval is required`}},
		{"auto on a resource",
			map[string]string{"c.yaml": "resources:\n  - name: h\n    address: h:22\n    approval:\n      auto: true\n"},
			[]string{`c.yaml:5: resource h: approval: auto is not allowed on a resource`}},
		{"bad boolean",
			map[string]string{"c.yaml": role("    login: ops\n    interactive: yes\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: interactive: expected true or false, found "yes"`}},
		{"pattern with unbalanced quote",
			map[string]string{"c.yaml": role("    login: ops\n    allowed_commands: [\"echo 'hi\"]\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: allowed_commands: pattern "echo 'hi": unbalanced quote`}},
		{"interactive role with allowed commands",
			map[string]string{"c.yaml": role("    login: ops\n    interactive: true\n    allowed_commands: [uptime]\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: interactive: true and allowed_commands exclude each other`}},
		{"allowed commands through a force_command that is not the gate",
			map[string]string{"c.yaml": role("    login: ops\n    allowed_commands: [uptime]\n    force_command: /usr/bin/env\n    approval: {auto: true}\n")},
			[]string{`c.yaml:5: role r2: force_command: "/usr/bin/env" is not the command gate`}},
		{"allowed commands through a gate with arguments",
			map[string]string{"c.yaml": role("    login: ops\n    allowed_commands: [uptime]\n    force_command: /usr/local/bin/lockbox-gate; id\n    approval: {auto: true}\n")},
			[]string{`c.yaml:5: role r2: force_command: "/usr/local/bin/lockbox-gate; id" is not the command gate`}},
		{"allowed commands through a relative gate",
			map[string]string{"c.yaml": role("    login: ops\n    allowed_commands: [uptime]\n    force_command: lockbox-gate\n    approval: {auto: true}\n")},
			[]string{`c.yaml:5: role r2: force_command: "lockbox-gate" is not the command gate`}},
		{"the gate without allowed commands",
			map[string]string{"c.yaml": role("    login: ops\n    force_command: /usr/local/bin/lockbox-gate\n    approval: {auto: true}\n")},
			[]string{`c.yaml:4: role r2: force_command: the command gate needs allowed_commands`}},
		{"a command gate setting that is not the gate",
			map[string]string{"c.yaml": "settings:\n  command_gate: /bin/sh\n"},
			[]string{`c.yaml:2: settings: command_gate: "/bin/sh" is not the command gate`}},
		{"description with a control character",
			map[string]string{"c.yaml": "groups:\n  - name: g\n    description: \"a\\u001b[31mb\"\n"},
			[]string{`c.yaml:3: group g: description: control character U+001B is not allowed`}},
		{"list where a mapping belongs",
			map[string]string{"c.yaml": "users:\n  - [alice]\n"},
			[]string{`c.yaml:2: user: expected a mapping of fields (key: value), found a list`}},
		{"mapping where a list belongs",
			map[string]string{"c.yaml": "users:\n  name: zed\n"},
			[]string{`c.yaml:2: users: expected a list, found a mapping`}},
		{"alias",
			map[string]string{"c.yaml": "groups:\n  - &g {name: g1}\n  - *g\n"},
			[]string{`c.yaml:3: group: YAML aliases (*g) are not supported`}},
		{"YAML syntax error with its line",
			map[string]string{"c.yaml": "groups:\n  - name: g\n    description: [unclosed\n"},
			[]string{`c.yaml:3: YAML syntax error in the block starting here: did not find expected ',' or ']'`}},
		{"YAML syntax error names the enclosing block",
			map[string]string{"c.yaml": "groups:\n  - name: g\n  name: h\n"},
			[]string{`c.yaml:2: YAML syntax error in the block starting here: did not find expected '-' indicator`}},
		{"YAML scanner error at its line",
			map[string]string{"c.yaml": "groups:\n  - name: g\n    description: a: b\n"},
			[]string{`c.yaml:3: YAML syntax error: mapping values are not allowed in this context`}},
		{"tab indentation",
			map[string]string{"c.yaml": "groups:\n\t- name: g\n"},
			[]string{`c.yaml:2: YAML syntax error:`}},
		{"control character in the file",
			map[string]string{"c.yaml": "groups:\n  - name: g\x07\n"},
			[]string{`c.yaml:2: control character '\a' is not allowed`}},
		{"invalid UTF-8",
			map[string]string{"c.yaml": "groups:\n\n  - name: \xff\n"},
			[]string{`c.yaml:3: not valid UTF-8 text`}},
		{"two YAML documents",
			map[string]string{"c.yaml": "groups:\n  - name: g\n---\ngroups:\n  - name: h\n"},
			[]string{`c.yaml:3: a second YAML document`}},
		{"file is a list",
			map[string]string{"c.yaml": "- name: g\n"},
			[]string{`c.yaml:1: policy file: expected a mapping of fields`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(k.files(tt.files))
			if err == nil {
				t.Fatalf("Parse succeeded, want errors %q", tt.want)
			}
			if p != nil {
				t.Error("Parse returned a policy with an error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			for _, line := range strings.Split(msg, "\n") {
				if !errorLineRE.MatchString(line) {
					t.Errorf("error line %q is not FILE:LINE: message", line)
				}
			}
		})
	}
}

func TestParseReportsEveryErrorInFileOrder(t *testing.T) {
	k := newTestKeys(t)
	_, err := Parse(k.files(map[string]string{"c.yaml": "groups:\n  - name: A\n  - name: B\n"}))
	if err == nil {
		t.Fatal("want errors")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "c.yaml:2:") || !strings.HasPrefix(lines[1], "c.yaml:3:") {
		t.Errorf("want two errors at lines 2 and 3, got:\n%s", err)
	}
}

func TestParseNoFiles(t *testing.T) {
	if _, err := Parse(nil); err == nil {
		t.Error("Parse(nil) succeeded")
	}
}
