package secretbox

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secretbox.key")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
	return path
}

func TestLoadKeyFile(t *testing.T) {
	hexKey := hex.EncodeToString(testKey(7))
	tests := []struct {
		name    string
		data    string
		mode    os.FileMode
		wantErr bool
	}{
		{"raw 32 bytes", string(testKey(7)), 0o600, false},
		{"hex digits", hexKey, 0o600, false},
		{"hex digits and newline", hexKey + "\n", 0o600, false},
		{"hex digits and CRLF", hexKey + "\r\n", 0o600, false},
		{"upper case hex digits", strings.ToUpper(hexKey), 0o600, false},
		{"owner read only", hexKey, 0o400, false},
		{"group readable refused", hexKey, 0o640, true},
		{"world readable refused", hexKey, 0o604, true},
		{"group writable refused", hexKey, 0o620, true},
		{"short raw key refused", string(testKey(7)[:31]), 0o600, true},
		{"long raw key refused", string(testKey(7)) + "x", 0o600, true},
		{"short hex refused", hexKey[:62], 0o600, true},
		{"non-hex refused", "zz" + hexKey[2:], 0o600, true},
		{"base64 refused", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", 0o600, true},
		{"empty refused", "", 0o600, true},
		{"large file refused", strings.Repeat(hexKey, 100), 0o600, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := LoadKeyFile(writeFile(t, []byte(tt.data), tt.mode))
			if (err != nil) != tt.wantErr {
				t.Fatalf("LoadKeyFile = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			// The loaded key is testKey(7).
			if _, err := b.Open(mustNew(t, testKey(7)).Seal([]byte("s"), alice), alice); err != nil {
				t.Errorf("loaded box cannot open a value sealed under the key: %v", err)
			}
		})
	}
}

func TestLoadKeyFileRefusesDirectoryAndMissingFile(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	for _, path := range []string{dir, filepath.Join(dir, "missing")} {
		if _, err := LoadKeyFile(path); err == nil {
			t.Errorf("LoadKeyFile(%s) succeeded", path)
		}
	}
}

func TestGenerateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secretbox.key")
	if err := GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", perm)
	}
	before, _ := os.ReadFile(path)
	b, err := LoadKeyFile(path)
	if err != nil {
		t.Fatalf("loading generated key: %v", err)
	}
	sealed := b.Seal([]byte("s"), alice)

	t.Run("existing file never overwritten", func(t *testing.T) {
		if err := GenerateKeyFile(path); err == nil {
			t.Error("GenerateKeyFile over an existing file succeeded")
		}
		after, _ := os.ReadFile(path)
		if string(after) != string(before) {
			t.Error("existing key file changed")
		}
		again, err := LoadKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := again.Open(sealed, alice); err != nil {
			t.Errorf("reloaded key cannot open earlier value: %v", err)
		}
	})
	t.Run("keys differ", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.key")
		if err := GenerateKeyFile(other); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(other)
		if string(data) == string(before) {
			t.Error("two generated keys are equal")
		}
	})
}

func mustNew(t *testing.T, key []byte) *Box {
	t.Helper()
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
