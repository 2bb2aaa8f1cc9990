package workflow_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// windowPolicy is the example policy plus what the approval-loop tests
// use: role urgent (one manager; escalates to security after 30m), role
// stepup (one manager; a fresh MFA code to approve and to fetch),
// resource tenant-db (one of contoso-admins; waits 20m at most), sam in
// security, and team window-team (alice and frank, who is in security,
// with no managers of its own) eligible for both roles on db-1 and
// tenant-db.
const windowPolicy = `users:
  - name: sam
    keys: ["SAMKEY"]
    groups: [security]
roles:
  - name: urgent
    login: ops
    max_duration: 4h
    approval:
      require: [{managers: true}]
      escalate_after: 30m
      escalate_to: security
  - name: stepup
    login: ops
    step_up_mfa: true
    approval:
      require: [{managers: true}]
resources:
  - name: tenant-db
    address: 127.0.0.1:2299
    pending_timeout: 20m
    approval:
      require: [{group: contoso-admins}]
teams:
  - name: window-team
    members: [alice, frank]
    eligible:
      - roles: [urgent, stepup, reader, health]
        resources: [db-1, tenant-db]
`

// newWindowEnv is newEnv with windowPolicy.
func newWindowEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, nil)
	e.holder.Set(policyWith(t, windowPolicy))
	return e
}

// policyWith parses the example policy with one more file.
func policyWith(t *testing.T, extra string) *policy.Policy {
	t.Helper()
	files := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join("..", "..", "policy", "*.yaml"))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = data
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(newPublicKey(t))))
	files["zz-window.yaml"] = []byte(strings.ReplaceAll(extra, "SAMKEY", key))
	p, err := policy.Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
