package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/auditsink"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// mysqlBackup is what ca backup and ca restore say on MySQL.
const mysqlBackup = `on MySQL/MariaDB, back up with the database's own tool while the CA runs:
  mariadb-dump --single-transaction --routines --triggers --hex-blob DB > lockbox.sql
and restore into an empty database with: mariadb DB < lockbox.sql
(docs/operations.md, "Backup and restore", has the whole procedure and the checkpoint check)`

const keysNotInBackup = "the backup holds no private keys: keep user_ca, hop_ca, host_ca, audit_key and secrets.key (and their .pub files) from the data directory in a separate, offline backup (docs/operations.md)"

func backupCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the CA's SQLite database while the CA runs (no private keys)",
		Long: `backup writes a consistent copy of the SQLite store to FILE (a new file,
mode 0600) with VACUUM INTO, while ca serve goes on: the copy holds every
transaction committed before it started and none after. It is audited as
store.backed_up. The copy holds no private keys; ` + keysNotInBackup + `.

On MySQL/MariaDB it prints the mariadb-dump procedure instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if cfg.Store.Driver == "mysql" {
				return fmt.Errorf("%s", mysqlBackup)
			}
			file, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			svc, _, _, db, err := buildService(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.BackupTo(cmd.Context(), file); err != nil {
				return err
			}
			snap, err := sqlstore.InspectSQLite(cmd.Context(), file)
			if err != nil {
				return fmt.Errorf("checking the backup just written: %w", err)
			}
			if err := svc.RecordOperatorAction(cmd.Context(), operatorName(), "store.backed_up", file,
				map[string]any{"head_seq": snap.HeadSeq, "head_hash": fmt.Sprintf("%x", snap.HeadHash)}); err != nil {
				return fmt.Errorf("the backup %s is written but could not be audited: %w", file, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: audit rows 1..%d, schema %d\n", file, snap.HeadSeq, snap.Schema)
			fmt.Fprintln(out, "note:", keysNotInBackup)
			return nil
		},
	}
	addServeFlags(c.Flags())
	return c
}

func restoreCmd() *cobra.Command {
	var force bool
	var checkpoints []string
	var auditKey string
	c := &cobra.Command{
		Use:   "restore FILE [--checkpoint PATH]... [--force]",
		Short: "Restore a ca backup into a fresh data directory, refusing one older than the newest signed audit checkpoint",
		Long: `restore copies a backup made by ca backup into the data directory's
database, which must not exist yet: restore fills a fresh data directory
and never overwrites. Put the key files there first (` + keysNotInBackup + `).

Before it copies anything, restore reads every signed audit checkpoint it
knows (audit_checkpoint.file and audit_checkpoint.dir from the
configuration, and each --checkpoint), checks their signatures with the
audit key, and refuses a backup whose audit log ends before the newest of
them, or does not hold that checkpoint's row as it was signed: restoring it
would lose audited history. --force restores it anyway; the restore is
audited as store.restored, saying it was forced and why it was refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			if cfg.Store.Driver == "mysql" {
				return fmt.Errorf("%s", mysqlBackup)
			}
			return restore(cmd, cfg, args[0], checkpoints, auditKey, force)
		},
	}
	addServeFlags(c.Flags())
	c.Flags().BoolVar(&force, "force", false, "restore a backup older than the newest signed audit checkpoint")
	c.Flags().StringArrayVar(&checkpoints, "checkpoint", nil, "a file or directory of signed audit checkpoints to judge the backup by (besides audit_checkpoint.file/dir)")
	c.Flags().StringVar(&auditKey, "audit-key", "", "the audit public key the checkpoints are signed with (default DATA/audit_key.pub)")
	return c
}

func restore(cmd *cobra.Command, cfg *config, backup string, paths []string, auditKeyFile string, force bool) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	target := cfg.Store.DSN
	for _, p := range []string{target, target + "-wal", target + "-journal"} {
		if exists(p) {
			return fmt.Errorf("%s exists: ca restore fills a fresh data directory and never overwrites; move the old database away first", p)
		}
	}
	keys, err := loadKeys(cfg.Data)
	if err != nil {
		return fmt.Errorf("the data directory's keys (put them back from their own backup first; %s): %w", keysNotInBackup, err)
	}
	snap, err := sqlstore.InspectSQLite(ctx, backup)
	if err != nil {
		return err
	}
	auditPub := keys.audit.PublicKey()
	if auditKeyFile != "" {
		if auditPub, err = readPublicKey(auditKeyFile); err != nil {
			return err
		}
	}
	for _, p := range []string{cfg.AuditCheckpoint.File, cfg.AuditCheckpoint.Dir} {
		if p != "" && exists(p) {
			paths = append(paths, p)
		}
	}
	newest, err := newestCheckpoint(paths, auditPub)
	if err != nil {
		return err
	}
	refusal := ""
	if newest != nil {
		refusal, err = judgeBackup(cmd, backup, snap, newest)
		if err != nil {
			return err
		}
	}
	if refusal != "" && !force {
		return fmt.Errorf("refusing to restore %s: %s; restore a newer backup, or pass --force to restore this one anyway (audited as forced)", backup, refusal)
	}
	if err := copyNew(backup, target); err != nil {
		return err
	}
	svc, _, _, db, err := buildService(cfg)
	if err != nil {
		return fmt.Errorf("opening the restored database %s: %w", target, err)
	}
	defer db.Close()
	detail := map[string]any{"backup": backup, "head_seq": snap.HeadSeq, "forced": refusal != ""}
	if newest != nil {
		detail["checkpoint_seq"] = newest.Seq
	}
	if refusal != "" {
		detail["refusal"] = refusal
	}
	if err := svc.RecordOperatorAction(ctx, operatorName(), "store.restored", target, detail); err != nil {
		return fmt.Errorf("the database is restored to %s but the restore could not be audited: %w", target, err)
	}
	fmt.Fprintf(out, "restored %s to %s: audit rows 1..%d\n", backup, target, snap.HeadSeq)
	if refusal != "" {
		fmt.Fprintf(out, "forced although %s\n", refusal)
	}
	return nil
}

// newestCheckpoint reads and verifies the checkpoints at paths and returns
// the one of the highest row, or nil when there are none. One that the
// audit key did not sign refuses the restore: it cannot be judged by.
func newestCheckpoint(paths []string, key ssh.PublicKey) (*audit.SignedCheckpoint, error) {
	var newest *audit.SignedCheckpoint
	for _, p := range paths {
		cps, err := auditsink.Read(p)
		if err != nil {
			return nil, fmt.Errorf("reading audit checkpoints: %w", err)
		}
		for i := range cps {
			if err := cps[i].Verify(key); err != nil {
				return nil, fmt.Errorf("%s: checkpoint of row %d: %w", p, cps[i].Seq, err)
			}
			if newest == nil || cps[i].Seq > newest.Seq {
				newest = &cps[i]
			}
		}
	}
	return newest, nil
}

// judgeBackup says why the backup must not be restored without --force,
// or "" when it holds the newest checkpoint's row as it was signed.
func judgeBackup(cmd *cobra.Command, backup string, snap *sqlstore.Snapshot, newest *audit.SignedCheckpoint) (string, error) {
	if snap.HeadSeq < newest.Seq {
		return fmt.Sprintf("its audit log ends at row %d, but a checkpoint signed %s covers row %d: audit rows %d..%d would be lost",
			snap.HeadSeq, newest.Time.Format("2006-01-02 15:04:05Z"), newest.Seq, snap.HeadSeq+1, newest.Seq), nil
	}
	if newest.Seq == 0 {
		return "", nil
	}
	hash, ok, err := sqlstore.AuditHashAt(cmd.Context(), backup, newest.Seq)
	if err != nil {
		return "", fmt.Errorf("reading the backup's audit row %d: %w", newest.Seq, err)
	}
	if !ok || !bytes.Equal(hash, newest.Hash) {
		return fmt.Sprintf("its audit row %d is not the one the checkpoint signed %s states: it is not this CA's history",
			newest.Seq, newest.Time.Format("2006-01-02 15:04:05Z")), nil
	}
	return "", nil
}

// copyNew copies src to dst (mode 0600) through a temporary file beside
// dst, synced, then linked: dst is never replaced and never half written.
func copyNew(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying the backup to %s: %w", dst, err)
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		return fmt.Errorf("copying the backup to %s: %w", dst, err)
	}
	return syncDirOf(dst)
}

func syncDirOf(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readPublicKey(path string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}
