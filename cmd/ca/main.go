// Command ca is Lockbox's control plane: the HTTP API, policy, workflow,
// certificate authority and audit log.
//
//	ca init --data DIR             make the user, hop and host CA keys and the audit key
//	ca serve [--config ca.yaml]    run the CA
//	ca sign-host --host-key K.pub --hostname H   certify a host key
//	ca policy check DIR            validate a policy directory
//	ca rotate [prepare|retire] user|hop|host   rotate a CA key with an overlap
//	ca backup FILE                 copy the SQLite store while the CA runs
//	ca restore FILE [--force]      restore it into a fresh data directory
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{Use: "ca", Short: "Lockbox certificate authority and control plane", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(initCmd(), serveCmd(), signHostCmd(), policyCmd(), rotateCmd(), backupCmd(), restoreCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ca:", err)
		os.Exit(1)
	}
}
