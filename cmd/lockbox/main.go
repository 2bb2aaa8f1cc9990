// Command lockbox is the Lockbox CLI for engineers, approvers and SREs.
// Settings come from flags, LOCKBOX_* environment variables (LOCKBOX_CA,
// LOCKBOX_USER, LOCKBOX_IDENTITY, LOCKBOX_DIR) and
// ~/.config/lockbox/lockbox.yaml, in falling order of precedence.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/viper"

	"github.com/lockbox-ssh/lockbox/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	v := viper.New()
	v.SetEnvPrefix("LOCKBOX")
	v.AutomaticEnv()
	if dir, err := os.UserConfigDir(); err == nil {
		v.SetConfigFile(filepath.Join(dir, "lockbox", "lockbox.yaml"))
		if _, err := os.Stat(filepath.Join(dir, "lockbox", "lockbox.yaml")); err == nil {
			if err := v.ReadInConfig(); err != nil {
				os.Stderr.WriteString("lockbox: reading config: " + err.Error() + "\n")
				os.Exit(2)
			}
		}
	}
	root := cli.NewCommand(func() cli.Settings {
		return cli.Settings{CA: v.GetString("ca"), User: v.GetString("user"), Identity: v.GetString("identity"),
			Dir: v.GetString("dir"), Bastion: v.GetString("bastion"), JSON: v.GetBool("json"), Agent: os.Getenv("SSH_AUTH_SOCK"),
			IdempotencyKey: v.GetString("idempotency-key")}
	}, os.Stdout, os.Stderr)
	if err := v.BindPFlags(root.PersistentFlags()); err != nil {
		panic(err)
	}
	os.Exit(cli.Execute(ctx, root, os.Args[1:]))
}
