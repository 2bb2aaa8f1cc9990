package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/internal/gcpace"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/bastion"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// The bastion's garbage collector runs when the heap has grown by half of
// what it scans (GOGC=50), or by 8 MiB if that is more; GOGC in the
// environment replaces this. See docs/bastion.md.
const (
	gcFraction = 0.5
	gcFloor    = 8 << 20
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
				defer gcpace.Start(gcFraction, gcFloor).Stop()
			}
			return serve(cmd.Context(), cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
		},
	}
	addFlags(c.Flags())
	return c
}

// hostSigner loads the host key and, if present, its certificate.
func hostSigner(dir string) (ssh.Signer, error) {
	key, err := sshcert.LoadSigner(filepath.Join(dir, hostKeyFile))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, hostKeyFile+"-cert.pub"))
	if errors.Is(err, os.ErrNotExist) {
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("host certificate: %w", err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return nil, errors.New("host_key-cert.pub is not a certificate")
	}
	return ssh.NewCertSigner(cert, key)
}

// caKeys reads the pinned CA keys, or fetches what is not pinned.
func caKeys(ctx context.Context, cfg *config, cl *client.Client) (user, host ssh.PublicKey, err error) {
	read := func(path string) (ssh.PublicKey, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(data)
		return k, err
	}
	parse := func(line string) (ssh.PublicKey, error) {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		return k, err
	}
	if cfg.UserCAFile != "" && cfg.HostCAFile != "" {
		if user, err = read(cfg.UserCAFile); err != nil {
			return nil, nil, err
		}
		host, err = read(cfg.HostCAFile)
		return user, host, err
	}
	keys, err := cl.CAKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("fetching the CA keys: %w", err)
	}
	if user, err = parse(keys.UserCA); err != nil {
		return nil, nil, fmt.Errorf("user CA key: %w", err)
	}
	if host, err = parse(keys.HostCA); err != nil {
		return nil, nil, fmt.Errorf("host CA key: %w", err)
	}
	return user, host, nil
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
	host, err := hostSigner(cfg.Data)
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	userCA, hostCA, err := caKeys(ctx, cfg, cl)
	if err != nil {
		return err
	}
	spool, err := recording.OpenSpool(cfg.Spool)
	if err != nil {
		return err
	}
	srv, err := bastion.New(bastion.Config{
		Name: cfg.Name, HostKey: host, UserCA: userCA, HostCA: hostCA, CA: cl, Spool: spool,
		IdleTimeout: cfg.IdleTimeout, SessionCap: cfg.SessionCap, HeartbeatInterval: cfg.HeartbeatInterval,
		HandshakeTimeout: cfg.HandshakeTimeout, FlushEvery: cfg.FlushEvery, LiveInterval: cfg.LiveInterval, MFARemember: cfg.MFARemember, Logger: log,
		MaxUnauthenticated: cfg.MaxUnauthenticated, MaxUnauthenticatedPerSource: cfg.MaxUnauthenticatedPerSource,
		RefusalReportInterval: cfg.RefusalReportInterval,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	go uploadLoop(ctx, srv)
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
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown, "the bastion is shutting down")
}

// uploadLoop uploads recordings left in the spool (by a crash, or by a
// failed upload) at start and every minute.
func uploadLoop(ctx context.Context, srv *bastion.Server) {
	t := time.NewTicker(time.Minute)
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
