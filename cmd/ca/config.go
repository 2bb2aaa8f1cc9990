package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// config is ca's configuration: a YAML file (--config), LOCKBOX_*
// environment variables (LOCKBOX_STORE_DSN for store.dsn), and flags, in
// rising order of precedence.
type config struct {
	Listen         string        `mapstructure:"listen"`
	Data           string        `mapstructure:"data"`
	Policy         string        `mapstructure:"policy"`
	PendingTimeout time.Duration `mapstructure:"pending_timeout"`
	SweepInterval  time.Duration `mapstructure:"sweep_interval"`
	// EligibilityNotice: how long before a dated membership or
	// eligibility entry ends that it is recorded as ending.
	EligibilityNotice time.Duration `mapstructure:"eligibility_notice"`
	// AnonymousAuditInterval: refusals of callers nobody authenticated are
	// audited as one row per source address per interval, with the count.
	AnonymousAuditInterval time.Duration `mapstructure:"anonymous_audit_interval"`
	// Penalty: sources refused too often without authenticating have
	// their new connections refused for a while (penalty.go).
	Penalty penaltyConfig `mapstructure:"penalty"`
	// Uploads bounds the recordings received at once.
	Uploads    uploadsConfig `mapstructure:"uploads"`
	LeaseTTL   time.Duration `mapstructure:"session_lease_ttl"`
	HopCertTTL time.Duration `mapstructure:"hop_cert_ttl"`
	Recordings string        `mapstructure:"recordings"`
	// RecordingsS3: the bucket's endpoint and credentials when
	// recordings is s3://BUCKET/PREFIX.
	RecordingsS3 s3Config    `mapstructure:"recordings_s3"`
	TLSCert      string      `mapstructure:"tls_cert"`
	TLSKey       string      `mapstructure:"tls_key"`
	Store        storeConfig `mapstructure:"store"`
	Web          webConfig   `mapstructure:"web"`
	// AuditCheckpoint: signed checkpoints of the audit chain's head.
	AuditCheckpoint checkpointConfig `mapstructure:"audit_checkpoint"`
	// SCIM: the directory's push endpoint under /scim/v2/, served only
	// when token_file names the file holding its bearer token.
	SCIM scimConfig `mapstructure:"scim"`
	// Outbox: delivery of queued notifications; GrantEndingNotice: how
	// long before a grant ends that grant.ending_soon is queued.
	Outbox            outboxConfig  `mapstructure:"outbox"`
	GrantEndingNotice time.Duration `mapstructure:"grant_ending_notice"`
	// OIDC: single sign-on for the web form (sso.go).
	OIDC oidcConfig `mapstructure:"oidc"`
	// MetricsListen is where Prometheus metrics are served (/metrics);
	// "" or "off": not at all.
	MetricsListen string `mapstructure:"metrics_listen"`
	// LogFormat is "text" (logfmt, the default) or "json".
	LogFormat string `mapstructure:"log_format"`
	// DrainTimeout bounds how long SIGTERM waits for the calls in flight
	// to be answered before the store closes.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
}

type scimConfig struct {
	TokenFile string `mapstructure:"token_file"`
}

// webConfig configures the web form under /ui/.
type webConfig struct {
	Enabled     bool          `mapstructure:"enabled"`
	IdleTimeout time.Duration `mapstructure:"idle_timeout"` // a web session ends after this long unused
	MaxAge      time.Duration `mapstructure:"max_age"`      // and this long after login, whatever happens
	// SecureCookies forces the __Host- Secure session cookie when a
	// reverse proxy terminates TLS in front of a plain-HTTP CA. With
	// tls_cert set it is on anyway.
	SecureCookies bool `mapstructure:"secure_cookies"`
	// PasswordLogin keeps the password and code form; off, only single
	// sign-on (oidc) logs people in.
	PasswordLogin bool `mapstructure:"password_login"`
}

// uploadsConfig bounds recording uploads: how many at once, and their
// declared sizes together (what their temporary files may hold).
type uploadsConfig struct {
	MaxConcurrent int   `mapstructure:"max_concurrent"`
	MaxBytes      int64 `mapstructure:"max_bytes"`
}

type storeConfig struct {
	Driver string `mapstructure:"driver"` // sqlite | mysql
	DSN    string `mapstructure:"dsn"`    // sqlite: file path (default DATA/lockbox.db); mysql: go-sql-driver DSN
	// Timeout is one API call's deadline for all its store work, and the
	// store's own bound on any transaction.
	Timeout time.Duration `mapstructure:"timeout"`
}

func defaults(v *viper.Viper) {
	v.SetDefault("listen", "127.0.0.1:7443")
	v.SetDefault("data", "/var/lib/lockbox")
	v.SetDefault("policy", "/etc/lockbox/policy")
	v.SetDefault("pending_timeout", 24*time.Hour)
	v.SetDefault("sweep_interval", 5*time.Second)
	v.SetDefault("eligibility_notice", 7*24*time.Hour)
	v.SetDefault("anonymous_audit_interval", time.Minute)
	v.SetDefault("uploads.max_concurrent", 4)
	v.SetDefault("uploads.max_bytes", int64(4<<30))
	v.SetDefault("session_lease_ttl", 30*time.Second)
	v.SetDefault("hop_cert_ttl", 5*time.Minute)
	v.SetDefault("recordings", "")
	v.SetDefault("recordings_s3.endpoint", "")
	v.SetDefault("recordings_s3.region", "")
	v.SetDefault("recordings_s3.path_style", false)
	v.SetDefault("recordings_s3.access_key_file", "")
	v.SetDefault("recordings_s3.secret_key_file", "")
	v.SetDefault("recordings_s3.ca_file", "")
	v.SetDefault("recordings_s3.sse", "")
	v.SetDefault("recordings_s3.timeout", 30*time.Second)
	v.SetDefault("store.driver", "sqlite")
	v.SetDefault("store.dsn", "")
	v.SetDefault("store.timeout", 5*time.Second)
	v.SetDefault("tls_cert", "")
	v.SetDefault("tls_key", "")
	v.SetDefault("web.enabled", true)
	v.SetDefault("web.idle_timeout", 30*time.Minute)
	v.SetDefault("web.max_age", 12*time.Hour)
	v.SetDefault("web.secure_cookies", false)
	v.SetDefault("audit_checkpoint.interval", 10*time.Minute)
	v.SetDefault("audit_checkpoint.file", "")
	v.SetDefault("audit_checkpoint.dir", "")
	v.SetDefault("scim.token_file", "")
	outboxDefaults(v.SetDefault)
	penaltyDefaults(v.SetDefault)
	oidcDefaults(v.SetDefault)
	v.SetDefault("metrics_listen", "127.0.0.1:9464")
	v.SetDefault("log_format", "text")
	v.SetDefault("drain_timeout", 30*time.Second)
}

// loadConfig reads the config file named by --config (if any), the
// environment and the flags, strictly: unknown keys are errors.
func loadConfig(flags *pflag.FlagSet) (*config, error) {
	v := viper.New()
	defaults(v)
	v.SetEnvPrefix("LOCKBOX")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for _, name := range []string{"listen", "data", "policy", "pending_timeout", "sweep_interval", "eligibility_notice", "anonymous_audit_interval", "session_lease_ttl", "hop_cert_ttl", "recordings", "metrics_listen", "log_format", "drain_timeout"} {
		if f := flags.Lookup(name); f != nil {
			if err := v.BindPFlag(name, f); err != nil {
				return nil, err
			}
		}
	}
	for key, name := range map[string]string{"web.idle_timeout": "web_idle_timeout", "web.max_age": "web_max_age",
		"audit_checkpoint.interval": "audit_checkpoint_interval", "audit_checkpoint.file": "audit_checkpoint_file",
		"audit_checkpoint.dir": "audit_checkpoint_dir", "store.timeout": "store_timeout", "scim.token_file": "scim_token_file"} {
		if f := flags.Lookup(name); f != nil {
			if err := v.BindPFlag(key, f); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range []map[string]string{outboxFlags, penaltyFlags} {
		for key, name := range m {
			if f := flags.Lookup(name); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, err
				}
			}
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
	if c.Recordings == "" {
		c.Recordings = filepath.Join(c.Data, "recordings")
	}
	if c.Store.Driver == "sqlite" && c.Store.DSN == "" {
		c.Store.DSN = filepath.Join(c.Data, "lockbox.db")
	}
	switch {
	case c.Store.Driver != "sqlite" && c.Store.Driver != "mysql":
		return nil, fmt.Errorf("store.driver %q: want sqlite or mysql", c.Store.Driver)
	case c.Store.DSN == "":
		return nil, fmt.Errorf("store.dsn is required for %s", c.Store.Driver)
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return nil, fmt.Errorf("tls_cert and tls_key go together")
	case c.SweepInterval <= 0:
		return nil, fmt.Errorf("sweep_interval must be positive")
	case c.EligibilityNotice <= 0:
		return nil, fmt.Errorf("eligibility_notice must be positive")
	case c.Store.Timeout <= 0:
		return nil, fmt.Errorf("store.timeout must be positive")
	case c.AnonymousAuditInterval <= 0:
		return nil, fmt.Errorf("anonymous_audit_interval must be positive")
	case c.Uploads.MaxConcurrent <= 0 || c.Uploads.MaxBytes <= 0:
		return nil, fmt.Errorf("uploads.max_concurrent and uploads.max_bytes must be positive")
	case c.Web.IdleTimeout <= 0 || c.Web.MaxAge <= 0:
		return nil, fmt.Errorf("web.idle_timeout and web.max_age must be positive")
	case !c.Web.PasswordLogin && c.OIDC.Issuer == "":
		return nil, fmt.Errorf("web.password_login is off and oidc.issuer is not set: nobody could log in to the web form")
	case c.RecordingsS3.Timeout <= 0:
		return nil, fmt.Errorf("recordings_s3.timeout must be positive")
	case c.DrainTimeout <= 0:
		return nil, fmt.Errorf("drain_timeout must be positive")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return nil, fmt.Errorf("log_format %q: want text or json", c.LogFormat)
	case c.AuditCheckpoint.Interval < 0:
		return nil, fmt.Errorf("audit_checkpoint.interval must not be negative (0: only at start, at shutdown and on demand)")
	case c.GrantEndingNotice <= 0:
		return nil, fmt.Errorf("grant_ending_notice must be positive")
	}
	if err := c.Outbox.check(); err != nil {
		return nil, err
	}
	if _, err := c.Penalty.settings(); err != nil {
		return nil, err
	}
	return &c, nil
}

func addServeFlags(f *pflag.FlagSet) {
	f.String("config", "", "config file (YAML)")
	f.String("listen", "", "address to serve the API on (default 127.0.0.1:7443)")
	f.String("data", "", "directory with the CA keys and the SQLite database (default /var/lib/lockbox)")
	f.String("policy", "", "policy directory (default /etc/lockbox/policy)")
	f.Duration("pending_timeout", 0, "how long a request may wait for a decision (default 24h)")
	f.Duration("sweep_interval", 0, "how often expiry is swept (default 5s)")
	f.Duration("eligibility_notice", 0, "how long before a dated team membership or eligibility entry ends that it is recorded as ending (default 168h)")
	f.Duration("anonymous_audit_interval", 0, "refusals of unauthenticated callers are audited as one row per address per interval (default 1m)")
	f.Duration("session_lease_ttl", 0, "how long a session's one-per-user lease lasts without a heartbeat (default 30s)")
	f.Duration("hop_cert_ttl", 0, "how long a hop certificate lasts: the bastion's one login with it (default 5m, 1s..1h, never past the grant)")
	f.String("recordings", "", "directory for session recordings (default DATA/recordings; shared storage for several replicas), or s3://BUCKET/PREFIX with recordings_s3 in the config")
	f.Duration("web_idle_timeout", 0, "web form sessions end after this long unused (default 30m)")
	f.Duration("web_max_age", 0, "web form sessions end this long after login (default 12h)")
	f.Duration("audit_checkpoint_interval", 0, "how often the audit head is signed when it moved (default 10m; 0: only at start, at shutdown and on demand)")
	f.String("audit_checkpoint_file", "", "append signed audit checkpoints to this file")
	f.String("audit_checkpoint_dir", "", "write each signed audit checkpoint to this directory (text and .sig)")
	f.String("scim_token_file", "", "serve the SCIM 2.0 endpoint /scim/v2/ for the directory, with the bearer token in this file (at least 32 bytes)")
	f.String("metrics_listen", "", "serve Prometheus metrics at http://ADDR/metrics (default 127.0.0.1:9464; \"off\": not at all)")
	f.String("log_format", "", "text (default) or json")
	f.Duration("drain_timeout", 0, "on SIGTERM, how long calls in flight may take to be answered before the store closes (default 30s)")
	f.Duration("store_timeout", 0, "one API call's deadline for its database work; a stalled database answers 503 by then (default 5s)")
	f.Duration("outbox_poll_interval", 0, "how often each replica looks for notifications due (default 250ms)")
	f.Duration("outbox_lease", 0, "how long a replica holds a notification it delivers; an attempt is cut off at half (default 1m)")
	f.Int("outbox_max_attempts", 0, "deliveries of a notification before it is dead (default 10)")
	f.Duration("outbox_backoff_base", 0, "the longest wait after a notification's first failed delivery, doubling after each (default 10s)")
	f.Duration("outbox_backoff_max", 0, "the longest wait between a notification's deliveries (default 30m)")
	f.Bool("penalty_enabled", false, "refuse the new connections of a source refused too often without authenticating (default true; --penalty_enabled=false: off)")
	f.Int("penalty_budget", 0, "anonymous refusals a source may have a penalty_interval before it is penalised (default 100)")
	f.Duration("penalty_interval", 0, "the interval penalty_budget counts over (default 1m)")
	f.Duration("penalty_duration", 0, "how long a penalised source's new connections are refused (default 30s)")
	f.Int("penalty_max_sources", 0, "sources the penalty table holds at most (default 65536)")
	f.String("penalty_overflow", "", "what a full penalty table does with a new source: permissive (default: not counted) or deny-all (every source not exempt is refused for penalty_duration)")
	f.Int("penalty_ipv4_prefix", 0, "leading bits of an IPv4 address that are one source (default 32)")
	f.Int("penalty_ipv6_prefix", 0, "leading bits of an IPv6 address that are one source (default 64)")
	f.StringSlice("penalty_exempt", nil, "CIDRs never penalised, besides the policy's bastions' egress (default 127.0.0.1/32,::1/128; replaces the default)")
	f.Duration("grant_ending_notice", 0, "how long before a grant ends that grant.ending_soon is queued (default 5m)")
}
