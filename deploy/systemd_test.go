package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unit reads a systemd unit file's Key=Value lines, every value of a key
// in order.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not Key=Value", path, line)
		}
		u[k] = append(u[k], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

var units = map[string]struct{ binary, data string }{
	"lockbox-ca.service":      {"/usr/local/bin/ca", "/var/lib/lockbox"},
	"lockbox-bastion.service": {"/usr/local/bin/bastion", "/var/lib/lockbox-bastion"},
}

// TestSystemdUnitsSandboxed checks each unit's sandbox: a non-root user,
// no new privileges, no capabilities, the file system read-only but for
// the data directory (which holds the spool), private /tmp, no home
// directories, only IP and Unix sockets, the system-service syscalls.
func TestSystemdUnitsSandboxed(t *testing.T) {
	for name, want := range units {
		u := unit(t, filepath.Join("systemd", name))
		exact := map[string]string{
			"NoNewPrivileges":         "yes",
			"ProtectSystem":           "strict",
			"ReadWritePaths":          want.data,
			"PrivateTmp":              "yes",
			"PrivateDevices":          "yes",
			"ProtectHome":             "yes",
			"CapabilityBoundingSet":   "",
			"AmbientCapabilities":     "",
			"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
			"RestrictSUIDSGID":        "yes",
			"MemoryDenyWriteExecute":  "yes",
			"SystemCallArchitectures": "native",
			"UMask":                   "0077",
		}
		for k, v := range exact {
			if got := u[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: %s=%q, want exactly %s=%s", name, k, got, k, v)
			}
		}
		if !contains(u["SystemCallFilter"], "@system-service") {
			t.Errorf("%s: no SystemCallFilter=@system-service (%q)", name, u["SystemCallFilter"])
		}
		if user := u["User"]; len(user) != 1 || user[0] == "" || user[0] == "root" || user[0] == "0" {
			t.Errorf("%s: User=%q, want one non-root user", name, user)
		}
		if start := u["ExecStart"]; len(start) != 1 || !strings.HasPrefix(start[0], want.binary+" serve --config /etc/lockbox/") {
			t.Errorf("%s: ExecStart=%q, want %s serve --config /etc/lockbox/...", name, start, want.binary)
		}
	}
}

// TestSystemdUnitsVerify runs systemd-analyze verify on each unit, with
// ExecStart pointing at a binary that exists here (verify checks it).
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("LOCKBOX_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("systemd-analyze is missing (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is missing (apt-get install systemd)")
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, want := range units {
		b, err := os.ReadFile(filepath.Join("systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(b), "ExecStart="+want.binary+" ", "ExecStart="+truePath+" ", 1)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}
