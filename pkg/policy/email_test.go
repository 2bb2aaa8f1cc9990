package policy

import (
	"strings"
	"testing"
)

func TestUserEmailIsParsedAndLookedUp(t *testing.T) {
	k := newTestKeys(t)
	p, err := Parse(k.files(map[string]string{"c.yaml": "users:\n  - name: zed\n    keys: [\"KEY5\"]\n    email: Zed.Example@Example.COM\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Users["zed"].Email; got != "Zed.Example@Example.COM" {
		t.Errorf("Email = %q, want it as written", got)
	}
	if got := p.EmailOf("zed"); got != "Zed.Example@Example.COM" {
		t.Errorf("EmailOf(zed) = %q", got)
	}
	if got := p.EmailOf("alice"); got != "" {
		t.Errorf("EmailOf(alice), who has none, = %q", got)
	}
	if got := p.EmailOf("nobody"); got != "" {
		t.Errorf("EmailOf(nobody) = %q", got)
	}
}

func TestUserEmailErrors(t *testing.T) {
	k := newTestKeys(t)
	user := func(name, email string) string {
		return "  - name: " + name + "\n    keys: [\"KEY5\"]\n    email: " + email + "\n"
	}
	tests := []struct {
		name, file, want string
	}{
		{"display name", "users:\n" + user("zed", `"Zed <zed@example.com>"`), `c.yaml:4: user zed: email: "Zed <zed@example.com>" is not a bare address like name@example.com`},
		{"no domain", "users:\n" + user("zed", "zed"), `c.yaml:4: user zed: email: "zed" is not a bare address`},
		{"two addresses", "users:\n" + user("zed", `"a@example.com, b@example.com"`), `c.yaml:4: user zed: email: "a@example.com, b@example.com" is not a bare address`},
		{"a list", "users:\n" + user("zed", "[a@example.com]"), `c.yaml:4: user zed: email: expected a single value, found a list`},
		{"empty", "users:\n" + user("zed", `""`), `c.yaml:4: user zed: email: empty; leave the field out for no address`},
		{"too long", "users:\n" + user("zed", strings.Repeat("a", 250)+"@example.com"), `c.yaml:4: user zed: email: longer than 254 characters`},
		{"a newline folded in", "users:\n" + user("zed", `"zed@example.com\nBcc: x@example.org"`), `c.yaml:4: user zed: email: "zed@example.com\nBcc: x@example.org" is not a bare address`},
		{"two people, one address (any case)", "users:\n" + user("zed", "zed@example.com") + "  - name: yan\n    keys: [\"KEY6\"]\n    email: ZED@example.com\n",
			`c.yaml:7: user yan: email: ZED@example.com is already user zed's (c.yaml:4); one address belongs to one person`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(k.files(map[string]string{"c.yaml": tt.file}))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not contain %q:\n%s", tt.want, err)
			}
		})
	}
}
