package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/lockbox-ssh/lockbox/pkg/policy"
	"github.com/lockbox-ssh/lockbox/pkg/scim"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// scimEndpoint builds the SCIM endpoint when scim.token_file is set; a
// token file that is missing, unreadable or short refuses the start.
func scimEndpoint(svc *workflow.Service, cfg *config, penalties anonymousPenalties, log *slog.Logger) (http.Handler, error) {
	if cfg.SCIM.TokenFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(cfg.SCIM.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("scim.token_file: %w", err)
	}
	h, err := scim.New(scim.Config{Directory: svc, Token: bytes.TrimSpace(data), StoreTimeout: cfg.Store.Timeout, Logger: log,
		Penalties: penalties})
	if err != nil {
		return nil, fmt.Errorf("scim.token_file %s: %w", cfg.SCIM.TokenFile, err)
	}
	return h, nil
}

// deprovisionRemoved takes everything from people the policy no longer
// has (after a reload that removed them, or at start), logging what.
func deprovisionRemoved(ctx context.Context, svc *workflow.Service, old *policy.Policy, log *slog.Logger) {
	done, err := svc.DeprovisionRemoved(ctx, old)
	for _, d := range done {
		log.Warn("deprovisioned a person removed from the policy", "user", d.User, "withdrawn", len(d.Withdrawn),
			"revoked", len(d.Revoked), "sessions", len(d.Sessions))
	}
	if err != nil {
		log.Error("deprovisioning people removed from the policy; the next reload or start tries again", "err", err)
	}
}
