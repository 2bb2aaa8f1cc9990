// Package auditsink keeps the CA's signed audit checkpoints outside the
// database, where an operator's log shipper or backup takes them
// elsewhere: appended to one file (File), or as a pair of files per
// checkpoint in a directory (Dir), ready for ssh-keygen -Y verify.
package auditsink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

// File appends each checkpoint, its text followed by its armored
// signature, to one file (mode 0644: checkpoints are not secret). Each is
// written with one write(2) on a file opened O_APPEND, then synced, so
// several CA replicas may append to one file on a shared file system.
// `lockbox audit verify --checkpoint FILE` reads it whole.
type File struct{ path string }

// NewFile checks that path's directory exists and path, if it exists, is
// a regular file.
func NewFile(path string) (*File, error) {
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("audit checkpoint file %s: its directory does not exist", path)
	}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("audit checkpoint file %s: not a regular file", path)
	}
	return &File{path: path}, nil
}

// Write appends sc.
func (f *File) Write(sc audit.SignedCheckpoint) error {
	fd, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening the checkpoint file: %w", err)
	}
	_, err = fd.Write(sc.Bundle())
	if err == nil {
		err = fd.Sync()
	}
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("appending to %s: %w", f.path, err)
	}
	return nil
}

// Dir writes each checkpoint as two files in a directory:
// checkpoint-SEQ-TIME (the signed text, SEQ zero-padded to 20 digits, TIME
// as 20261123T100000Z) and the same name with .sig (the armored
// signature), as ssh-keygen -Y sign names them. Each file is written under
// a temporary name, synced and renamed, the signature first, so a shipper
// that sees the text finds its signature beside it.
type Dir struct{ path string }

// NewDir makes the directory (0755) if it does not exist.
func NewDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("audit checkpoint directory: %w", err)
	}
	return &Dir{path: path}, nil
}

// Name is the file name Dir gives the text of sc.
func Name(sc audit.SignedCheckpoint) string {
	return fmt.Sprintf("checkpoint-%020d-%s", sc.Seq, sc.Time.UTC().Format("20060102T150405Z"))
}

// Write writes sc's two files.
func (d *Dir) Write(sc audit.SignedCheckpoint) error {
	name := filepath.Join(d.path, Name(sc))
	if err := writeAtomic(name+".sig", sc.Signature); err != nil {
		return err
	}
	if err := writeAtomic(name, sc.Text); err != nil {
		return err
	}
	dir, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", d.path, err)
	}
	defer dir.Close()
	return dir.Sync()
}

func writeAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// All writes each checkpoint to every sink in turn and reports every
// failure; one failing sink does not keep the others from their copy.
type All []interface {
	Write(audit.SignedCheckpoint) error
}

// Write writes sc to every sink.
func (a All) Write(sc audit.SignedCheckpoint) error {
	var errs []error
	for _, s := range a {
		errs = append(errs, s.Write(sc))
	}
	return errors.Join(errs...)
}
