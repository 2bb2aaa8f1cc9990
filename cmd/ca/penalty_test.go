package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/lockbox-ssh/lockbox/pkg/penalty"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
)

// loadWith loads the configuration from a YAML file holding yaml (if
// not empty) and the flags args.
func loadWith(t *testing.T, yaml string, args ...string) (*config, error) {
	t.Helper()
	f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addServeFlags(f)
	if yaml != "" {
		path := filepath.Join(t.TempDir(), "ca.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(f)
}

// Penalties are on by default, with pkg/penalty's defaults and loopback
// exempt.
func TestPenaltiesAreOnByDefault(t *testing.T) {
	c, err := loadWith(t, "")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := c.Penalty.settings()
	if err != nil {
		t.Fatal(err)
	}
	want := penalty.Config{Budget: penalty.DefaultBudget, Interval: penalty.DefaultInterval, Duration: penalty.DefaultDuration,
		MaxSources: penalty.DefaultMaxSources, IPv4Prefix: 32, IPv6Prefix: 64, Overflow: penalty.Permissive,
		Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}}
	if !c.Penalty.Enabled || pc.Budget != want.Budget || pc.Interval != want.Interval || pc.Duration != want.Duration ||
		pc.MaxSources != want.MaxSources || pc.IPv4Prefix != want.IPv4Prefix || pc.IPv6Prefix != want.IPv6Prefix ||
		pc.Overflow != want.Overflow || len(pc.Exempt) != 2 || pc.Exempt[0] != want.Exempt[0] || pc.Exempt[1] != want.Exempt[1] {
		t.Fatalf("default penalties: enabled %v, %+v; want enabled, %+v", c.Penalty.Enabled, pc, want)
	}
	tb, err := penaltyTable(c.Penalty, policy.NewHolder(&policy.Policy{}))
	if err != nil || tb == nil {
		t.Fatalf("default penalty table: %v, %v; want one", tb, err)
	}
}

// The keys are read from the file, the environment and the flags, and
// penalty.enabled false leaves no table.
func TestPenaltyKeysAreConfigurable(t *testing.T) {
	t.Setenv("LOCKBOX_PENALTY_DURATION", "2m")
	c, err := loadWith(t, "penalty:\n  budget: 5\n  overflow: deny-all\n  exempt: [10.0.0.0/8, \"2001:db8::/32\"]\n  ipv6_prefix: 56\n",
		"--penalty_interval", "10s", "--penalty_max_sources", "7")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := c.Penalty.settings()
	if err != nil {
		t.Fatal(err)
	}
	if pc.Budget != 5 || pc.Interval != 10*time.Second || pc.Duration != 2*time.Minute || pc.MaxSources != 7 || pc.IPv6Prefix != 56 ||
		pc.Overflow != penalty.DenyAll || len(pc.Exempt) != 2 || pc.Exempt[1] != netip.MustParsePrefix("2001:db8::/32") {
		t.Fatalf("configured penalties: %+v", pc)
	}
	c, err = loadWith(t, "penalty:\n  enabled: false\n")
	if err != nil {
		t.Fatal(err)
	}
	if tb, err := penaltyTable(c.Penalty, policy.NewHolder(&policy.Policy{})); err != nil || tb != nil {
		t.Fatalf("penalty.enabled false: table %v, %v; want none", tb, err)
	}
	if c, err = loadWith(t, "", "--penalty_enabled=false"); err != nil || c.Penalty.Enabled {
		t.Fatalf("--penalty_enabled=false: %v, enabled %v", err, c != nil && c.Penalty.Enabled)
	}
	// The exempt list, comma-separated, from a flag and from the
	// environment; each replaces the default.
	for _, tc := range []struct {
		env  string
		args []string
	}{{"", []string{"--penalty_exempt", "10.1.0.0/16,::1/128"}}, {"10.1.0.0/16,::1/128", nil}} {
		t.Setenv("LOCKBOX_PENALTY_EXEMPT", tc.env)
		if tc.env == "" {
			os.Unsetenv("LOCKBOX_PENALTY_EXEMPT")
		}
		c, err := loadWith(t, "", tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := c.Penalty.settings()
		if err != nil || len(pc.Exempt) != 2 || pc.Exempt[0] != netip.MustParsePrefix("10.1.0.0/16") || pc.Exempt[1] != netip.MustParsePrefix("::1/128") {
			t.Errorf("exempt from env %q, flags %v: %v, %v; want 10.1.0.0/16 and ::1/128", tc.env, tc.args, pc.Exempt, err)
		}
	}
}

// A bad value is refused at start, with the key it is under.
func TestBadPenaltyKeysAreRefusedByName(t *testing.T) {
	for _, tc := range []struct{ yaml, key string }{
		{"budget: 0", "penalty.budget"},
		{"budget: -3", "penalty.budget"},
		{"interval: 0s", "penalty.interval"},
		{"duration: -1s", "penalty.duration"},
		{"max_sources: 0", "penalty.max_sources"},
		{"ipv4_prefix: 33", "penalty.ipv4_prefix"},
		{"ipv6_prefix: 0", "penalty.ipv6_prefix"},
		{"overflow: deny", "penalty.overflow"},
		{"exempt: [10.0.0.1]", "penalty.exempt"},
		{"exempt: [10.0.0.1/8]", "penalty.exempt"},
		{"exempt: [example.com]", "penalty.exempt"},
		// Checked with penalties off too: the mistake shows before
		// someone turns them on.
		{"enabled: false\n  budget: 0", "penalty.budget"},
	} {
		_, err := loadWith(t, "penalty:\n  "+tc.yaml+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("penalty: %s: got %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
	if _, err := loadWith(t, "penalty:\n  budgets: 5\n"); err == nil {
		t.Error("an unknown penalty key loaded")
	}
}

// The policy's bastions are exempt by their egress addresses as the
// policy stands at each call: a reload that adds one exempts it.
func TestBastionsAreExemptAsThePolicyStands(t *testing.T) {
	bastion := func(prefixes ...string) *policy.Policy {
		b := &policy.Bastion{Name: "bastion-1"}
		for _, p := range prefixes {
			b.Egress = append(b.Egress, netip.MustParsePrefix(p))
		}
		return &policy.Policy{Bastions: map[string]*policy.Bastion{b.Name: b}}
	}
	h := policy.NewHolder(bastion("10.0.0.2/32"))
	c, err := loadWith(t, "penalty:\n  budget: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := penaltyTable(c.Penalty, h)
	if err != nil {
		t.Fatal(err)
	}
	b1, b2 := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.1.5")
	for range 3 {
		tb.Refused(b1)
		tb.Refused(b2)
	}
	if tb.Penalised(b1) || !tb.Penalised(b2) {
		t.Fatalf("3 refusals each of a budget of 1: bastion %s penalised %v, %s penalised %v; want only the second",
			b1, tb.Penalised(b1), b2, tb.Penalised(b2))
	}
	h.Set(bastion("10.0.0.2/32", "10.0.1.0/28"))
	if tb.Penalised(b2) {
		t.Fatalf("%s is still refused after a reload made it a bastion's egress", b2)
	}
	if tb.Exempt(netip.MustParseAddr("10.0.2.1")) {
		t.Fatal("an address outside every bastion's egress is exempt")
	}
	h.Set(bastion())
	if !tb.Penalised(b2) {
		t.Fatalf("%s is not refused during its penalty after a reload removed the bastion", b2)
	}
}
