package integration

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/lockbox-ssh/lockbox/"

// deps lists the project packages pkg depends on, directly or not.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var own []string
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, module) && d != module+pkg {
			own = append(own, strings.TrimPrefix(d, module))
		}
	}
	return own
}

// Dependencies point one way: leaves import no project package, the
// workflow knows nothing of its edges, and only cmd/* reads configuration.
func TestDependenciesPointOneWay(t *testing.T) {
	t.Parallel()
	for _, leaf := range []string{"pkg/policy", "pkg/sshcert", "pkg/audit", "pkg/store", "pkg/apiauth", "pkg/totp", "pkg/secretbox", "pkg/wire", "pkg/recording", "pkg/recstore", "pkg/inert", "pkg/tally", "pkg/when", "pkg/notify", "pkg/metrics", "internal/gcpace", "internal/clip", "pkg/sso"} {
		if d := deps(t, leaf); len(d) > 0 {
			t.Errorf("leaf %s imports %v", leaf, d)
		}
	}
	forbidden := map[string][]string{
		"pkg/workflow":  {"pkg/api", "pkg/client", "pkg/cli", "pkg/store/sqlstore", "pkg/wire", "pkg/scim", "pkg/sso"},
		"pkg/scim":      {"pkg/api", "pkg/web", "pkg/cli", "pkg/client", "pkg/store/sqlstore"},
		"pkg/api":       {"pkg/cli", "pkg/client", "pkg/store/sqlstore", "pkg/web"},
		"pkg/web":       {"pkg/api", "pkg/cli", "pkg/client", "pkg/store/sqlstore"},
		"pkg/bastion":   {"pkg/workflow", "pkg/store", "pkg/store/sqlstore", "pkg/api", "pkg/policy"},
		"pkg/client":    {"pkg/api", "pkg/workflow", "pkg/store", "pkg/policy"},
		"pkg/cli":       {"pkg/api", "pkg/workflow", "pkg/store", "pkg/policy"},
		"pkg/auditsink": {"pkg/workflow", "pkg/store", "pkg/api", "pkg/policy"},
	}
	for pkg, bad := range forbidden {
		for _, d := range deps(t, pkg) {
			for _, b := range bad {
				if d == b {
					t.Errorf("%s imports %s", pkg, b)
				}
			}
		}
	}
	// Notifications: the renderers use only notify, inert and when;
	// channels add only the renderers. Neither knows the workflow, the store or policy.
	// Access reviews are pure over the policy and the store's records (and internal/clip, a leaf, for text in errors).
	for pkg, allowed := range map[string][]string{
		"pkg/notify/render":  {"pkg/notify", "pkg/inert", "pkg/when"},
		"pkg/review":         {"pkg/policy", "pkg/store", "internal/clip"},
		"pkg/evidence":       {"pkg/audit"},
		"pkg/cakeys":         {"pkg/sshcert"},
		"pkg/breakglass":     {"pkg/sshcert"},
		"pkg/notify/channel": {"pkg/notify", "pkg/notify/render", "pkg/inert", "pkg/when"},
		// The S3 store knows only the store interface it implements.
		"pkg/recstore/s3store": {"pkg/recstore"},
		// Routing reads the policy and builds channels; it knows no workflow or store.
		"pkg/notify/route": {"pkg/policy", "pkg/notify", "pkg/notify/channel", "pkg/notify/render", "pkg/inert", "pkg/when"},
		// The outbox's delivery loop knows the store, the audit chain and
		// the channels, never the workflow or policy.
		"pkg/outbox": {"pkg/store", "pkg/audit", "pkg/notify", "pkg/notify/channel", "pkg/notify/render", "pkg/inert", "pkg/when"},
	} {
		for _, d := range deps(t, pkg) {
			if !slices.Contains(allowed, d) {
				t.Errorf("%s imports %s", pkg, d)
			}
		}
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if strings.HasPrefix(fields[0], module+"cmd/") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "github.com/spf13/viper" {
				t.Errorf("%s reads configuration (imports viper); only cmd/* may", fields[0])
			}
		}
	}
}
