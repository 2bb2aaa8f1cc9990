package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/gcpace"
	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/cakeys"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/scim"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
	"github.com/lockbox-ssh/lockbox/pkg/web"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// serveCmd runs the CA with its garbage collector paced by gcpace
// (CAFraction, CAFloor): certificate calls make garbage fast on a small
// live heap. GOGC in the environment replaces this. See docs/benchmarks.md.
func serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve [--config ca.yaml]",
		Short: "Run the CA: API, workflow, signing, audit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if os.Getenv("GOGC") == "" {
				defer gcpace.Start(gcpace.CAFraction, gcpace.CAFloor).Stop()
			}
			return serve(cmd.Context(), cfg, newLogger(cfg.LogFormat))
		},
	}
	addServeFlags(c.Flags())
	return c
}

func openStore(c storeConfig) (*sqlstore.DB, error) {
	o := sqlstore.Options{TxTimeout: c.Timeout}
	if c.Driver == "mysql" {
		return sqlstore.OpenMySQL(c.DSN, o)
	}
	return sqlstore.OpenSQLite(c.DSN, o)
}

// buildService opens what a workflow.Service needs.
func buildService(cfg *config) (*workflow.Service, *policy.Holder, *caKeys, *sqlstore.DB, error) {
	svc, holder, keys, db, _, err := buildRoutedService(cfg)
	return svc, holder, keys, db, err
}

// buildRoutedService is buildService that also returns where
// notifications go, for the delivery loop.
func buildRoutedService(cfg *config) (*workflow.Service, *policy.Holder, *caKeys, *sqlstore.DB, routing, error) {
	fail := func(err error) (*workflow.Service, *policy.Holder, *caKeys, *sqlstore.DB, routing, error) {
		return nil, nil, nil, nil, routing{}, err
	}
	keys, err := loadKeys(cfg.Data)
	if err != nil {
		return fail(err)
	}
	pol, err := loadPolicy(cfg.Policy)
	if err != nil {
		return fail(fmt.Errorf("loading the policy: %w", err))
	}
	db, err := openStore(cfg.Store)
	if err != nil {
		return fail(fmt.Errorf("opening the %s store: %w", cfg.Store.Driver, err))
	}
	holder := policy.NewHolder(pol)
	recs, err := openRecordings(cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		db.Close()
		return fail(err)
	}
	routes, err := notificationRouting(holder)
	if err != nil {
		db.Close()
		return fail(err)
	}
	svc, err := workflow.New(workflow.Config{
		Store: db, Policy: holder, UserCA: keys.user, HopCA: keys.hop, HostCA: keys.host,
		UserTrusted: keys.trusted[cakeys.User], HopTrusted: keys.trusted[cakeys.Hop], HostTrusted: keys.trusted[cakeys.Host],
		Secrets: keys.secrets, PendingTimeout: cfg.PendingTimeout, LeaseTTL: cfg.LeaseTTL, HopTTL: cfg.HopCertTTL, Recordings: recs,
		EligibilityNotice: cfg.EligibilityNotice,
		Router:            routes.router, WebURL: cfg.Outbox.WebURL, GrantEndingNotice: cfg.GrantEndingNotice,
	})
	if err != nil {
		db.Close()
		return fail(err)
	}
	return svc, holder, keys, db, routes, nil
}

// registeredKeys resolves API principals to the keys the policy registers.
func registeredKeys(h *policy.Holder) apiauth.KeysFunc {
	return func(principal string) []ssh.PublicKey {
		p := h.Get()
		if name, ok := strings.CutPrefix(principal, "user:"); ok {
			return p.UserKeys(name)
		}
		if name, ok := strings.CutPrefix(principal, "bastion:"); ok {
			return p.BastionKeys(name)
		}
		return nil
	}
}

func serve(ctx context.Context, cfg *config, log *slog.Logger) error {
	svc, holder, keys, db, routes, err := buildRoutedService(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	sink, err := checkpointSink(cfg.AuditCheckpoint)
	if err != nil {
		return err
	}
	checkpoints, err := svc.NewCheckpointer(keys.audit, sink)
	if err != nil {
		return err
	}
	penalties, err := penaltyTable(cfg.Penalty, holder)
	if err != nil {
		return err
	}
	acfg := api.Config{
		Workflow: svc, Keys: registeredKeys(holder), Authorities: svc.Authorities, AuditKey: keys.audit.PublicKey(), Checkpoints: checkpoints, Reviews: svc, Notifications: svc, Live: svc, Ping: db.Ping, StoreTimeout: cfg.Store.Timeout, Logger: log,
		MaxUploads: cfg.Uploads.MaxConcurrent, MaxUploadBytes: cfg.Uploads.MaxBytes,
	}
	if penalties != nil { // not a typed nil: Guard and penalise test for none
		acfg.Penalties = penalties
		pc := penalties.Config()
		log.Info("per-source penalties on", "budget", pc.Budget, "interval", pc.Interval.String(), "duration", pc.Duration.String(),
			"max_sources", pc.MaxSources, "overflow", pc.Overflow.String(), "exempt", fmt.Sprint(pc.Exempt), "bastions_exempt", true)
	} else {
		log.Warn("per-source penalties off (penalty.enabled: false): a flood of anonymous calls is refused call by call")
	}
	srv, err := api.New(acfg)
	if err != nil {
		return err
	}
	ln, err := api.Listen(ctx, cfg.Listen)
	if err != nil {
		return err
	}
	ln = srv.Guard(ln) // a penalised source's new connections are closed at accept

	// The web form and SCIM count their anonymous refusals in the API's
	// table; nil with penalties off (they test for none).
	var guard anonymousPenalties
	if penalties != nil {
		guard = srv
	}
	directory, err := scimEndpoint(svc, cfg, guard, log)
	if err != nil {
		return err
	}
	handler, err := withWeb(srv, directory, svc, cfg, guard, log)
	if err != nil {
		return err
	}
	if err := svc.LoadDirectory(ctx); err != nil {
		return fmt.Errorf("reading the directory's group membership: %w", err)
	}
	deprovisionRemoved(ctx, svc, nil, log)
	auditBreakGlass(ctx, cfg.Data, svc, log)
	handler = metrics.InstrumentAPI(handler, routeOf(srv))
	if cfg.MetricsListen != "" && cfg.MetricsListen != "off" {
		ms, err := metrics.Listen(cfg.MetricsListen, metrics.CA, log)
		if err != nil {
			return err
		}
		defer ms.Close(context.Background())
		log.Info("metrics serving", "addr", ms.Addr().String())
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go sweep(ctx, svc, cfg.SweepInterval, log)
	outboxCtx, stopOutbox := context.WithCancel(ctx)
	delivered, err := startOutbox(outboxCtx, cfg, db, routes, log)
	if err != nil {
		stopOutbox()
		return err
	}
	defer func() { stopOutbox(); <-delivered }() // outcomes are recorded before the store closes
	cpCtx, stopCheckpoints := context.WithCancel(ctx)
	signed := make(chan struct{})
	go func() { defer close(signed); signCheckpoints(cpCtx, checkpoints, cfg.AuditCheckpoint.Interval, log) }()
	defer func() { stopCheckpoints(); <-signed }() // the last checkpoint is signed before the store closes
	go flushAnonymous(ctx, svc, cfg.AnonymousAuditInterval, log)
	go reloadKeysOnHUP(ctx, svc, cfg.Data, log)
	go reloadOnHUP(ctx, holder, cfg.Policy, func(old *policy.Policy) { deprovisionRemoved(ctx, svc, old, log) }, log)
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("ca serving", "addr", ln.Addr().String(), "store", cfg.Store.Driver, "policy", cfg.Policy, "tls", cfg.TLSCert != "")
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, answer every call in flight (their store batches
	// commit first), then close the store: a call is either answered or
	// never reached the CA, and the client sends it again under its key.
	log.Info("ca stopping: answering the calls in flight", "timeout", cfg.DrainTimeout.String())
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	err = hs.Shutdown(shutdown)
	if err != nil {
		log.Error("calls still in flight at the drain timeout were cut", "err", err)
	}
	if _, ferr := svc.FlushAnonymousRefusals(shutdown, log); ferr != nil {
		log.Error("auditing anonymous refusals at shutdown", "err", ferr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("ca stopped")
	return nil
}

// routeOf labels a call for metrics: the API route that serves it, or the
// web form's and the SCIM endpoint's prefix.
func routeOf(srv *api.Server) func(*http.Request) string {
	return func(r *http.Request) string {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/ui/"):
			return "/ui/"
		case strings.HasPrefix(p, scim.Prefix+"/"):
			return scim.Prefix + "/"
		}
		return srv.Route(r)
	}
}

// newLogger logs to stderr as text (logfmt) or, with format "json", as
// one JSON object a line.
func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// flushAnonymous audits the refusals of unauthenticated callers counted
// since the last interval, one row per source address.
func flushAnonymous(ctx context.Context, svc *workflow.Service, interval time.Duration, log *slog.Logger) {
	every(ctx, interval, func() {
		if _, err := svc.FlushAnonymousRefusals(ctx, log); err != nil {
			log.Error("auditing anonymous refusals", "err", err)
		}
	})
}

// every calls fn at each interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// withWeb mounts the web form under /ui/ beside the API, and sends / there,
// and the SCIM endpoint under /scim/v2/ if there is one.
func withWeb(apiHandler, directory http.Handler, svc *workflow.Service, cfg *config, penalties anonymousPenalties, log *slog.Logger) (http.Handler, error) {
	if !cfg.Web.Enabled && directory == nil {
		return apiHandler, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	if directory != nil {
		mux.Handle(scim.Prefix+"/", directory)
	}
	if !cfg.Web.Enabled {
		return mux, nil
	}
	wcfg := web.Config{Workflow: svc, Reviews: svc, Notifications: svc, Live: svc, Secure: cfg.TLSCert != "" || cfg.Web.SecureCookies,
		IdleTimeout: cfg.Web.IdleTimeout, MaxAge: cfg.Web.MaxAge, Logger: log, NoPasswordLogin: !cfg.Web.PasswordLogin, Penalties: penalties}
	sc, err := ssoClient(cfg.OIDC)
	if err != nil {
		return nil, err
	}
	if sc != nil {
		wcfg.SSO, wcfg.SSOName = sc, cfg.OIDC.Name
	}
	ui, err := web.New(wcfg)
	if err != nil {
		return nil, err
	}
	mux.Handle("/ui/", ui)
	mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	return mux, nil
}

// sweep expires undecided requests and ended grants.
func sweep(ctx context.Context, svc *workflow.Service, interval time.Duration, log *slog.Logger) {
	every(ctx, interval, func() {
		if n, err := svc.Sweep(ctx); err != nil {
			log.Error("expiry sweep failed", "err", err)
		} else if n > 0 {
			log.Info("expired requests and grants", "count", n)
		}
	})
}

// reloadOnHUP reloads the policy on SIGHUP; a bad policy is logged and the
// good one stays. After a good reload, reloaded gets the policy it
// replaced.
func reloadOnHUP(ctx context.Context, h *policy.Holder, dir string, reloaded func(old *policy.Policy), log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			old := h.Get()
			if p, err := loadPolicy(dir); err != nil {
				log.Error("policy reload failed; keeping the previous policy", "err", err)
			} else {
				h.Set(p)
				log.Info("policy reloaded", "dir", dir)
				reloaded(old)
			}
		}
	}
}
