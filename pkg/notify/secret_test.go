package notify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRefResolvesFilesAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("LOCKBOX_TEST_HOOK_SECRET", "from-env")
	t.Setenv("LOCKBOX_TEST_EMPTY", "")
	tests := []struct {
		ref  SecretRef
		want string // "" means an ErrSecret
	}{
		{SecretRef("file:" + write("ok", "s3cret\n", 0o600)), "s3cret"},
		{SecretRef("file:" + write("crlf", "s3cret\r\n", 0o400)), "s3cret"},
		{SecretRef("file:" + write("inner-newlines", "a\nb\n", 0o600)), "a\nb"},
		{"env:LOCKBOX_TEST_HOOK_SECRET", "from-env"},
		{SecretRef("file:" + write("group-readable", "s3cret", 0o640)), ""},
		{SecretRef("file:" + write("world-readable", "s3cret", 0o604)), ""},
		{SecretRef("file:" + write("empty", "\n", 0o600)), ""},
		{SecretRef("file:" + write("big", strings.Repeat("x", maxSecretFile+1), 0o600)), ""},
		{SecretRef("file:" + dir), ""}, // a directory
		{SecretRef("file:" + filepath.Join(dir, "missing")), ""},
		{"file:relative/path", ""},
		{"env:LOCKBOX_TEST_EMPTY", ""},
		{"env:LOCKBOX_TEST_UNSET_VARIABLE", ""},
		{"env:1BAD", ""},
		{"env:BAD-NAME", ""},
		{"", ""},
		{"hunter2-literal-secret", ""},
		{"vault:secret/hook", ""},
	}
	for _, tc := range tests {
		got, err := tc.ref.Resolve()
		if tc.want == "" {
			if !errors.Is(err, ErrSecret) {
				t.Errorf("Resolve(%.40q) = %q, %v; want ErrSecret", tc.ref, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("Resolve(%.40q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		}
	}
}

func TestSecretRefErrorsNeverShowALiteralSecret(t *testing.T) {
	for _, ref := range []SecretRef{"hunter2-literal-secret", "https://hooks.slack.com/services/T0/B0/XYZSECRET"} {
		err := ref.Validate()
		if err == nil || strings.Contains(err.Error(), string(ref)) || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Validate(literal) = %v: want an error that does not repeat it", err)
		}
	}
}
