package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// config is the bastion's configuration: a YAML file (--config), LOCKBOX_*
// environment variables, and flags, in rising order of precedence.
type config struct {
	Name              string        `mapstructure:"name"`
	Listen            string        `mapstructure:"listen"`
	CA                string        `mapstructure:"ca"`
	Data              string        `mapstructure:"data"`
	Spool             string        `mapstructure:"spool"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	SessionCap        time.Duration `mapstructure:"session_cap"`
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
	FlushEvery        time.Duration `mapstructure:"flush_every"`
	LiveInterval      time.Duration `mapstructure:"live_interval"`
	HandshakeTimeout  time.Duration `mapstructure:"handshake_timeout"`
	// MaxUnauthenticated and MaxUnauthenticatedPerSource cap connections
	// that have not logged in yet (as sshd's MaxStartups).
	MaxUnauthenticated          int           `mapstructure:"max_unauthenticated"`
	MaxUnauthenticatedPerSource int           `mapstructure:"max_unauthenticated_per_source"`
	RefusalReportInterval       time.Duration `mapstructure:"refusal_report_interval"`
	MFARemember                 time.Duration `mapstructure:"mfa_remember"`
	Pprof                       string        `mapstructure:"pprof"`
	// UploadRetryInterval: how often recordings left in the spool (a
	// failed upload, a crash) are uploaded again.
	UploadRetryInterval time.Duration `mapstructure:"upload_retry_interval"`
	// UserCAFile and HostCAFile pin the CA public keys (one key per line;
	// two during a CA key rotation); without them the bastion fetches
	// them from the CA. Either way it reads them again every
	// CAKeysRefresh.
	UserCAFile    string        `mapstructure:"user_ca_file"`
	HostCAFile    string        `mapstructure:"host_ca_file"`
	CAKeysRefresh time.Duration `mapstructure:"ca_keys_refresh"`
	// MetricsListen is where Prometheus metrics are served (/metrics);
	// "" or "off": not at all.
	MetricsListen string `mapstructure:"metrics_listen"`
	LogFormat     string `mapstructure:"log_format"` // text | json
	// DrainTimeout is how long SIGTERM waits for open sessions to end
	// before it ends the rest.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
	// BreakGlass accepts break-glass certificates (ca break-glass) while
	// the CA is down; off by default.
	BreakGlass bool `mapstructure:"break_glass"`
}

var settings = []struct {
	name, usage string
	def         any
}{
	{"name", "this bastion's name in the policy", "bastion-1"},
	{"listen", "SSH address", "127.0.0.1:2222"},
	{"ca", "CA URL", "http://127.0.0.1:7443"},
	{"data", "directory with host_key, identity and the spool", "/var/lib/lockbox-bastion"},
	{"spool", "recording spool (default DATA/spool)", ""},
	{"idle_timeout", "end a session after this long without client input", 15 * time.Minute},
	{"session_cap", "no session lasts longer", 24 * time.Hour},
	{"heartbeat_interval", "how often sessions are checked with the CA (revocation)", 2 * time.Second},
	{"flush_every", "how often recordings are flushed to disk", time.Second},
	{"live_interval", "how often running sessions' output goes to the CA for live view (at most 1s)", 200 * time.Millisecond},
	{"handshake_timeout", "key exchange and login must finish within this, and a logged-in connection must then have a session open within it", 30 * time.Second},
	{"max_unauthenticated", "connections not yet logged in, at most, in total", 512},
	{"max_unauthenticated_per_source", "connections not yet logged in, at most, per client address (IPv6: per /64)", 32},
	{"refusal_report_interval", "how often counts of refused anonymous connections go to the CA's audit log", time.Minute},
	{"mfa_remember", "after a good TOTP code, the same certificate from the same address logs in again without one for this long (0: always ask)", time.Duration(0)},
	{"upload_retry_interval", "how often recordings left in the spool (a failed upload, a crash) are uploaded again", time.Minute},
	{"pprof", "serve Go's profiles (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060 (default off)", ""},
	{"user_ca_file", "pinned user CA public keys, one per line (default: fetched from the CA)", ""},
	{"host_ca_file", "pinned host CA public keys, one per line (default: fetched from the CA)", ""},
	{"ca_keys_refresh", "how often the CA keys are fetched (or the pinned files read) again, to follow a CA key rotation", time.Minute},
	{"metrics_listen", "serve Prometheus metrics at http://ADDR/metrics (\"off\": not at all)", "127.0.0.1:9465"},
	{"log_format", "text or json", "text"},
	{"drain_timeout", "on SIGTERM, how long open sessions may go on (their users are told) before the rest are ended", 5 * time.Minute},
	{"break_glass", "accept break-glass certificates from `ca break-glass` (no CA, no TOTP code; see docs/operations.md)", false},
}

func addFlags(f *pflag.FlagSet) {
	f.String("config", "", "config file (YAML)")
	for _, s := range settings {
		switch d := s.def.(type) {
		case string:
			f.String(s.name, d, s.usage)
		case time.Duration:
			f.Duration(s.name, d, s.usage)
		case int:
			f.Int(s.name, d, s.usage)
		case bool:
			f.Bool(s.name, d, s.usage)
		}
	}
}

func loadConfig(flags *pflag.FlagSet) (*config, error) {
	v := viper.New()
	v.SetEnvPrefix("LOCKBOX_BASTION")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for _, s := range settings {
		v.SetDefault(s.name, s.def)
		if err := v.BindPFlag(s.name, flags.Lookup(s.name)); err != nil {
			return nil, err
		}
	}
	if path, _ := flags.GetString("config"); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	var c config
	if err := v.UnmarshalExact(&c); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if c.Spool == "" {
		c.Spool = filepath.Join(c.Data, "spool")
	}
	for name, d := range map[string]time.Duration{"idle_timeout": c.IdleTimeout, "session_cap": c.SessionCap,
		"heartbeat_interval": c.HeartbeatInterval, "flush_every": c.FlushEvery, "handshake_timeout": c.HandshakeTimeout,
		"refusal_report_interval": c.RefusalReportInterval, "upload_retry_interval": c.UploadRetryInterval, "drain_timeout": c.DrainTimeout, "ca_keys_refresh": c.CAKeysRefresh, "live_interval": c.LiveInterval} {
		if d <= 0 {
			return nil, fmt.Errorf("%s must be positive", name)
		}
	}
	if c.Pprof != "" {
		host, _, err := net.SplitHostPort(c.Pprof)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("pprof %q: must be a loopback address and port", c.Pprof)
		}
	}
	if c.MaxUnauthenticated < 1 || c.MaxUnauthenticatedPerSource < 1 {
		return nil, fmt.Errorf("max_unauthenticated and max_unauthenticated_per_source must be at least 1")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, fmt.Errorf("log_format %q: want text or json", c.LogFormat)
	}
	if c.MFARemember < 0 {
		return nil, fmt.Errorf("mfa_remember must not be negative")
	}
	if c.LiveInterval > time.Second {
		return nil, fmt.Errorf("live_interval %v: at most 1s, so watchers see output within about a second", c.LiveInterval)
	}
	if c.FlushEvery > time.Second {
		return nil, fmt.Errorf("flush_every %v: at most 1s, so a crash loses at most the last second", c.FlushEvery)
	}
	return &c, nil
}
