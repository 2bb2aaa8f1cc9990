package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyExample copies the example policy into a fresh directory.
func copyExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	paths, _ := filepath.Glob("../../policy/*.yaml")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(path)), string(data))
	}
	return dir
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHolderKeepsOldPolicyWhenReloadFails(t *testing.T) {
	dir := copyExample(t)
	p, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(p)
	bad := filepath.Join(dir, "zz-bad.yaml")
	writeFile(t, bad, "roles:\n  - name: broken\n    login: ops\n    max_duration: forever\n    approval: {auto: true}\n")
	err = h.ReloadDir(dir)
	if err == nil {
		t.Fatal("ReloadDir accepted a bad policy")
	}
	if want := bad + ":4: role broken: max_duration"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if h.Get() != p {
		t.Fatal("a failed reload replaced the policy")
	}
	writeFile(t, bad, "groups:\n  - name: new-group\n")
	if err := h.ReloadDir(dir); err != nil {
		t.Fatalf("ReloadDir: %v", err)
	}
	if h.Get() == p || h.Get().Groups["new-group"] == nil {
		t.Error("a good reload did not replace the policy")
	}
}

func TestLoadDir(t *testing.T) {
	t.Run("a directory without policy files is an error", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "README.md"), "not policy")
		if _, err := LoadDir(dir); err == nil {
			t.Error("LoadDir of a directory without *.yaml succeeded")
		}
	})
	t.Run("a missing directory is an error", func(t *testing.T) {
		if _, err := LoadDir(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Error("LoadDir of a missing directory succeeded")
		}
	})
	t.Run("yml files are read and other files, hidden files and subdirectories skipped", func(t *testing.T) {
		dir := copyExample(t)
		writeFile(t, filepath.Join(dir, "extra.yml"), "groups:\n  - name: from-yml\n")
		writeFile(t, filepath.Join(dir, ".backup.yaml"), "this: is not read\n")
		writeFile(t, filepath.Join(dir, "notes.txt"), "this: is not read\n")
		if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
			t.Fatal(err)
		}
		p, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if p.Groups["from-yml"] == nil {
			t.Error("the .yml file was not read")
		}
	})
}
