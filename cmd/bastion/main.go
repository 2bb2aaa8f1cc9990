// Command bastion is Lockbox's SSH gateway: the only way to a target.
//
//	bastion init --data DIR        make the host key and the bastion's identity key
//	bastion serve [--config F]     run the bastion
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
	root := &cobra.Command{Use: "bastion", Short: "Lockbox SSH bastion", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(initCmd(), serveCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bastion:", err)
		os.Exit(1)
	}
}
