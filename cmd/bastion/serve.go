package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockbox-ssh/lockbox/internal/gcpace"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/bastion"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/metrics"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// The bastion's garbage collector runs when the heap has grown by half of
// what it scans (GOGC=50), or by 8 MiB if that is more, but by no more than
// it allocated in gcPeriod at the last cycle's rate (8 MiB still the
// least): many quiet sessions are then collected every few seconds or
// less often instead of being given half their size again. GOGC in the
// environment replaces this. See docs/bastion.md.
const (
	gcFraction = 0.5
	gcFloor    = 8 << 20
	gcPeriod   = 2 * time.Second
)

func serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve [--config bastion.yaml]",
		Short: "Run the bastion",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if os.Getenv("GOGC") == "" {
				defer gcpace.StartWithPeriod(gcFraction, gcFloor, gcPeriod).Stop()
			}
			return serve(cmd.Context(), cfg, newLogger(cfg.LogFormat))
		},
	}
	addFlags(c.Flags())
	return c
}

func serve(ctx context.Context, cfg *config, log *slog.Logger) error {
	identity, err := sshcert.LoadSigner(filepath.Join(cfg.Data, identityFile))
	if err != nil {
		return fmt.Errorf("identity key (run `bastion init` first?): %w", err)
	}
	cl, err := client.New(cfg.CA, &apiauth.Signer{Principal: "bastion:" + cfg.Name, Key: identity}, nil)
	if err != nil {
		return err
	}
	host, err := loadHostKey(cfg.Data)
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	userCAs, hostCAs, err := trustedKeys(ctx, cfg, cl)
	if err != nil {
		return err
	}
	spool, err := recording.OpenSpool(cfg.Spool)
	if err != nil {
		return err
	}
	srv, err := bastion.New(bastion.Config{
		Name: cfg.Name, HostKey: host, UserCA: userCAs[0], HostCA: hostCAs[0], CA: cl, Spool: spool,
		IdleTimeout: cfg.IdleTimeout, SessionCap: cfg.SessionCap, HeartbeatInterval: cfg.HeartbeatInterval,
		HandshakeTimeout: cfg.HandshakeTimeout, FlushEvery: cfg.FlushEvery, LiveInterval: cfg.LiveInterval, MFARemember: cfg.MFARemember, Logger: log,
		MaxUnauthenticated: cfg.MaxUnauthenticated, MaxUnauthenticatedPerSource: cfg.MaxUnauthenticatedPerSource,
		RefusalReportInterval: cfg.RefusalReportInterval,
		BreakGlass:            cfg.BreakGlass, Identity: identity,
	})
	if err != nil {
		return err
	}
	ln, err := bastion.Listen(ctx, cfg.Listen)
	if err != nil {
		return err
	}
	if err := srv.SetAuthorities(userCAs, hostCAs); err != nil {
		return err
	}
	go refreshTrust(ctx, srv, cfg, cl, userCAs, hostCAs, host, log)
	if cfg.MetricsListen != "" && cfg.MetricsListen != "off" {
		ms, err := metrics.Listen(cfg.MetricsListen, metrics.Bastion, log)
		if err != nil {
			return err
		}
		defer ms.Close(context.Background())
		metrics.WatchSpool(func() (int, int64) { return spoolBacklog(cfg.Spool) })
		go probeCA(ctx, cfg.CA, cfg.HeartbeatInterval, log)
		log.Info("metrics serving", "addr", ms.Addr().String())
	}
	go uploadLoop(ctx, srv, cfg.UploadRetryInterval)
	if cfg.Pprof != "" {
		go servePprof(cfg.Pprof, log)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("bastion serving", "addr", ln.Addr().String(), "name", cfg.Name, "ca", cfg.CA)
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// The drain, then at most drainUploads for the last recordings'
	// uploads; what is not uploaded by then stays in the spool.
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout+drainUploads)
	defer cancel()
	err = srv.Drain(shutdown, cfg.DrainTimeout)
	log.Info("bastion stopped", "err", err)
	return err
}

// drainUploads is how long a stopping bastion goes on uploading after
// its drain timeout.
const drainUploads = 2 * time.Minute

// newLogger logs to stderr as text (logfmt) or, with format "json", as
// one JSON object a line.
func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// spoolBacklog counts the recordings in the spool and the bytes of all
// its files.
func spoolBacklog(dir string) (int, int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	n, size := 0, int64(0)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if strings.HasSuffix(e.Name(), ".cast.gz") {
			n++
		}
		size += info.Size()
	}
	return n, size
}

// probeCA asks the CA's /healthz each interval and sets
// lockbox_bastion_ca_up: 1 for a 200 within the interval, else 0.
func probeCA(ctx context.Context, ca string, interval time.Duration, log *slog.Logger) {
	hc := &http.Client{Timeout: interval}
	up := -1
	every := time.NewTicker(interval)
	defer every.Stop()
	for {
		ok := false
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(ca, "/")+"/healthz", nil); err == nil {
			if resp, err := hc.Do(req); err == nil {
				ok = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
		}
		v := 0
		if ok {
			v = 1
		}
		metrics.CAUp.Set(float64(v))
		if v != up && ctx.Err() == nil {
			log.Info("the CA's health", "up", ok)
			up = v
		}
		select {
		case <-ctx.Done():
			return
		case <-every.C:
		}
	}
}

// uploadLoop uploads recordings left in the spool (by a crash, or by a
// failed upload) at start and every interval.
func uploadLoop(ctx context.Context, srv *bastion.Server, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		srv.UploadPending(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// servePprof serves Go's profiles on a loopback address, for measuring
// the bastion (docs/benchmarks.md).
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof", "err", err)
	}
}
