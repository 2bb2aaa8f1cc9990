package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("../../policy/*.yaml")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// One file holding a whole valid policy, so the invariants get checked.
	k := newTestKeys(f)
	f.Add([]byte(k.replacer.Replace(baseA + baseB)))
	f.Add([]byte(k.replacer.Replace(baseA + baseB + "settings: {default_max_duration: 1h}\n")))
	f.Add([]byte("roles:\n  - name: r\n    login: ops\n    allowed_commands: [\"a 'b\"]\n    approval: {auto: true}\n"))
	f.Add([]byte("groups:\n  - &g {name: g}\n  - *g\n---\nx: 1\n"))
	f.Add([]byte("settings: {command_gate: /opt/lockbox-gate}\nroles:\n  - name: r\n    login: ops\n    allowed_commands: [uptime]\n    approval: {auto: true}\n"))
	f.Add([]byte("roles:\n  - name: r\n    login: ops\n    interactive: true\n    allowed_commands: [uptime]\n    force_command: /x/lockbox-gate\n    approval: {auto: true}\n"))
	f.Add([]byte(k.replacer.Replace(baseA + baseB + "groups:\n  - name: sre\nresources:\n  - name: t\n    address: t:22\n    pending_timeout: 2h\n" +
		"    approval: {require: [{group: security}], escalate_after: 1h, escalate_to: sre}\n")))
	f.Add([]byte(k.replacer.Replace(baseA + baseB + "teams:\n  - name: dated\n    members:\n      - {name: alice, from: 2026-11-01, until: \"2026-11-30T18:00:00+02:00\"}\n" +
		"    eligible:\n      - {roles: [reader], resources: [db-1], until: 2026-12-31}\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(map[string][]byte{"fuzz.yaml": data})
		if err != nil {
			return
		}
		checkInvariants(t, p)
	})
}

// checkInvariants re-checks what every parsed policy promises.
func checkInvariants(t *testing.T, p *Policy) {
	for name, tm := range p.Teams {
		for u, d := range tm.MemberDates {
			if !slices.Contains(tm.Members, u) || !d.Dated() || (!d.From.IsZero() && !d.Until.IsZero() && !d.From.Before(d.Until)) {
				t.Errorf("team %s: member %s has bad dates %+v", name, u, d)
			}
		}
		for _, e := range tm.Eligible {
			if d := e.Dates; !d.From.IsZero() && !d.Until.IsZero() && !d.From.Before(d.Until) {
				t.Errorf("team %s: an entry has bad dates %+v", name, d)
			}
		}
	}
	for name, r := range p.Roles {
		if !ValidName(name) || r.Name != name || !ValidLogin(r.Login) {
			t.Errorf("role %q has a bad name or login %q", name, r.Login)
		}
		if r.MaxDuration <= 0 || r.MaxDuration > LongestMaxDuration {
			t.Errorf("role %s max duration %v", name, r.MaxDuration)
		}
		if r.Approval.Auto == (len(r.Approval.Require) > 0) {
			t.Errorf("role %s approval %+v is not exactly one of auto or require", name, r.Approval)
		}
		for _, pat := range r.AllowedCommands {
			if checkPattern(pat) != nil {
				t.Errorf("role %s kept bad pattern %q", name, pat)
			}
		}
		if len(r.AllowedCommands) > 0 && (r.Interactive || !isGate(r.ForceCommand)) {
			t.Errorf("role %s has allowed commands but interactive %v, force-command %q", name, r.Interactive, r.ForceCommand)
		}
		checkRequirements(t, p, r.Approval.Require)
		checkEscalation(t, p, r.Approval)
	}
	for name, r := range p.Resources {
		if !ValidName(name) || r.Approval.Auto || checkAddress(r.Address) != nil {
			t.Errorf("resource %q is invalid: %+v", name, r)
		}
		if r.PendingTimeout < 0 || r.PendingTimeout > LongestMaxDuration {
			t.Errorf("resource %s pending timeout %v", name, r.PendingTimeout)
		}
		checkRequirements(t, p, r.Approval.Require)
		checkEscalation(t, p, r.Approval)
	}
	for name, u := range p.Users {
		if !ValidName(name) || len(u.Keys) == 0 {
			t.Errorf("user %q has a bad name or no keys", name)
		}
	}
	for name, b := range p.Bastions {
		if !ValidName(name) || len(b.Keys) == 0 || len(b.Egress) == 0 {
			t.Errorf("bastion %q is incomplete", name)
		}
	}
	for _, g := range p.Settings.Auditors {
		if p.Groups[g] == nil {
			t.Errorf("auditor group %q is not defined", g)
		}
	}
	s := p.Settings
	if s.MaxActiveGrantsPerUser < 1 || s.MaxPendingRequestsPerUser < 1 || s.DefaultMaxDuration <= 0 {
		t.Errorf("bad settings %+v", s)
	}
	// Evaluation must not panic on whatever parsed.
	for role := range p.Roles {
		for user := range p.Users {
			_ = p.CheckRequest(Request{User: user, Role: role, Resources: p.EligibleResources(user, role, time.Now()), Duration: time.Minute, Reason: "r"}, Counts{}, time.Now())
			reqs, _ := p.Requirements(role, p.EligibleResources(user, role, time.Now()))
			_ = p.Outstanding(user, reqs, p.Approvers(user, reqs))
		}
	}
}

// checkEscalation: both fields or neither, a defined group, a positive
// time within the longest duration, never on an auto rule.
func checkEscalation(t *testing.T, p *Policy, a Approval) {
	if (a.EscalateTo == "") != (a.EscalateAfter == 0) || a.EscalateAfter < 0 || a.EscalateAfter > LongestMaxDuration ||
		(a.EscalateTo != "" && (p.Groups[a.EscalateTo] == nil || a.Auto)) {
		t.Errorf("bad escalation %v to %q (auto %v)", a.EscalateAfter, a.EscalateTo, a.Auto)
	}
}

func checkRequirements(t *testing.T, p *Policy, reqs []Requirement) {
	for _, r := range reqs {
		if r.Count < 1 || (r.Group == "") != r.Managers || (r.Group != "" && p.Groups[r.Group] == nil) {
			t.Errorf("bad requirement %+v", r)
		}
	}
}

func FuzzMatchCommand(f *testing.F) {
	seeds := []struct{ pattern, command string }{
		{"systemctl status *", "systemctl status nginx"},
		{"journalctl -u * **", "journalctl -u nginx --since today"},
		{"journalctl -u * **", "journalctl -u x --vacuum-time=1s"},
		{"date +*", "date +%s"},
		{"ls -* *", "ls -la -R"},
		{"cat /var/log/*", "cat /var/log/../../etc/shadow"},
		{"echo ?x", `echo "é"x`},
		{"df -h", "df -h; rm -rf /"},
		{"a *a*b*c", `a 'aa\b'"c"`},
		{"uptime", "uptime\x00"},
		{"uptime", "echo 'unbalanced"},
	}
	for _, s := range seeds {
		f.Add(s.pattern, s.command)
	}
	f.Fuzz(func(t *testing.T, pattern, command string) {
		got := MatchCommand([]string{pattern}, command)
		words, err := SplitCommand(command)
		if err != nil && got {
			t.Fatalf("command %q does not split (%v) but matched %q", command, err, pattern)
		}
		// A command always matches itself as a pattern when it has no
		// wildcards, and never has a word containing NUL.
		for _, w := range words {
			if strings.IndexByte(w, 0) >= 0 {
				t.Fatalf("word %q contains NUL", w)
			}
		}
		// A wildcard never stands for an option: a command word starting
		// with '-' or '+' needs a pattern word starting the same way.
		if pw, _ := SplitCommand(pattern); got {
			for _, w := range words {
				if isOption(w) && !slices.ContainsFunc(pw, func(p string) bool { return p != "" && p[0] == w[0] }) {
					t.Fatalf("pattern %q admits option %q of %q", pattern, w, command)
				}
			}
		}
		if err == nil && len(words) > 0 && !strings.ContainsAny(command, "*?\n") && !MatchCommand([]string{command}, command) {
			t.Fatalf("command %q does not match itself", command)
		}
	})
}

func FuzzQuoteCommand(f *testing.F) {
	f.Add("uptime", "x;id;echo${IFS}INJECTED>PWNED", "it's")
	f.Add("", "''", `'\''`)
	f.Add("a\nb", "$(id)", "`id`")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		words := []string{a, b, c}
		got, err := SplitCommand(QuoteCommand(words))
		if strings.ContainsRune(a+b+c, 0) {
			if err == nil {
				t.Fatalf("a NUL byte survived quoting: %q", got)
			}
			return
		}
		if err != nil || !slices.Equal(got, words) {
			t.Fatalf("SplitCommand(QuoteCommand(%q)) = %q, %v", words, got, err)
		}
	})
}
