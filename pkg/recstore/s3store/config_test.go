package s3store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in, bucket, prefix string
		ok, bad            bool
	}{
		{in: "/var/lib/lockbox/recordings"},
		{in: "s3://rec", bucket: "rec", ok: true},
		{in: "s3://rec/", bucket: "rec", ok: true},
		{in: "s3://rec/a/b/", bucket: "rec", prefix: "a/b", ok: true},
		{in: "s3://", ok: true, bad: true},
		{in: "s3://Rec/x", ok: true, bad: true},
		{in: "s3://rec/a//b", ok: true, bad: true},
		{in: "s3://rec/../b", ok: true, bad: true},
	} {
		b, p, ok, err := ParseURL(c.in)
		if ok != c.ok || (err != nil) != c.bad || (!c.bad && (b != c.bucket || p != c.prefix)) {
			t.Errorf("%q: %q %q %v %v", c.in, b, p, ok, err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://rec/a/b", "s3://", "/dir", "s3://a..b/x", "s3://rec/./x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, p, ok, err := ParseURL(s)
		if !ok || err != nil {
			return
		}
		if b == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			t.Fatalf("%q: bucket %q prefix %q", s, b, p)
		}
		for _, part := range strings.Split(p, "/") {
			if p != "" && (part == "." || part == "..") {
				t.Fatalf("%q: prefix %q", s, p)
			}
		}
	})
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, _, _, err := Credentials("", "", getenv); err == nil {
		t.Fatal("no files and no environment: accepted")
	}
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"] = "AK", "SK", "TOK"
	if a, s, tok, err := Credentials("", "", getenv); err != nil || a != "AK" || s != "SK" || tok != "TOK" {
		t.Fatalf("from the environment: %q %q %q %v", a, s, tok, err)
	}
	ak, sk := write("ak", "file-access\n"), write("sk", "file-secret\n")
	if a, s, tok, err := Credentials(ak, sk, getenv); err != nil || a != "file-access" || s != "file-secret" || tok != "" {
		t.Fatalf("from files: %q %q %q %v", a, s, tok, err)
	}
	for name, files := range map[string][2]string{"one file": {ak, ""}, "missing file": {ak, filepath.Join(dir, "none")},
		"empty file": {ak, write("empty", "\n")}, "two lines": {ak, write("two", "a\nb\n")}} {
		if _, _, _, err := Credentials(files[0], files[1], getenv); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
