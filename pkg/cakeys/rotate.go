package cakeys

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// Options are what the rotation steps need besides the directory.
type Options struct {
	// KeyType of the next key; "" means the current key's type.
	KeyType sshcert.KeyType
	Rand    io.Reader // crypto/rand.Reader in production
	Now     time.Time // names retired files and dates key comments
}

// Prepare makes kind's next key in dir: from now on it is published and
// trusted beside the signing key, which still signs everything. It refuses
// when a next key is already there ([ErrPrepared]) or the previous key is
// still trusted ([ErrOverlap]: retire it first).
func Prepare(dir string, kind Kind, o Options) (*Key, error) {
	k, err := Load(dir, kind)
	if err != nil {
		return nil, err
	}
	switch {
	case k.Next != nil:
		return nil, fmt.Errorf("%w for the %s CA: `ca rotate %s` makes it the signing key", ErrPrepared, kind, kind)
	case k.Previous != nil:
		return nil, fmt.Errorf("%w for the %s CA: retire it first (`ca rotate retire %s`)", ErrOverlap, kind, kind)
	}
	if err := makeNext(dir, k, o); err != nil {
		return nil, err
	}
	return Load(dir, kind)
}

func makeNext(dir string, k *Key, o Options) error {
	t := o.KeyType
	if t == "" {
		t = keyTypeOf(k.Signer)
	}
	key, err := sshcert.GenerateKey(t, o.Rand)
	if err != nil {
		return err
	}
	p := pathsOf(dir, k.Kind)
	if err := sshcert.WriteKeyFiles(p.next, key, comment(k.Kind, o.Now)); err != nil {
		return fmt.Errorf("writing the next %s key: %w", k.Kind, err)
	}
	return syncDir(dir)
}

// Rotate makes kind's next key (prepared, or made now) the signing key,
// and keeps the public half of the key it replaces as the previous key,
// trusted and published until [Retire]. The replaced private key is gone
// once Rotate returns. It refuses while a previous key is still trusted
// ([ErrOverlap]), and finishes a rotation a crash interrupted.
func Rotate(dir string, kind Kind, o Options) (*Key, error) {
	p := pathsOf(dir, kind)
	if finished, err := finishRotation(dir, kind); err != nil || finished {
		if err != nil {
			return nil, err
		}
		return Load(dir, kind)
	}
	k, err := Load(dir, kind)
	if err != nil {
		return nil, err
	}
	if k.Previous != nil {
		return nil, fmt.Errorf("%w for the %s CA: retire it first (`ca rotate retire %s`)", ErrOverlap, kind, kind)
	}
	if k.Next == nil {
		if err := makeNext(dir, k, o); err != nil {
			return nil, err
		}
	}
	if err := writeNew(p.previous, sshcert.AuthorizedKey(k.Signer.PublicKey(), comment(kind, o.Now)+" (previous)"), 0o644); err != nil {
		return nil, fmt.Errorf("keeping the %s key as previous: %w", kind, err)
	}
	if err := install(dir, p); err != nil {
		return nil, err
	}
	return Load(dir, kind)
}

// install renames the next key over the current one, private half first:
// the private file is what signs.
func install(dir string, p paths) error {
	if err := os.Rename(p.next, p.current); err != nil {
		return fmt.Errorf("installing the next key: %w", err)
	}
	if err := os.Rename(p.next+".pub", p.current+".pub"); err != nil {
		return fmt.Errorf("installing the next key's public half: %w", err)
	}
	return syncDir(dir)
}

// finishRotation completes a Rotate that stopped between keeping the
// previous key and installing the next, or between installing the next
// key's two halves, and reports whether it did; otherwise it does nothing.
func finishRotation(dir string, kind Kind) (bool, error) {
	p := pathsOf(dir, kind)
	_, err := Load(dir, kind)
	if err == nil || !errors.Is(err, ErrIncomplete) {
		return false, nil // Load's own error, if any, comes again from the caller's Load
	}
	signer, err := sshcert.LoadSigner(p.current)
	if err != nil {
		return false, err
	}
	prev, _ := readPublic(p.previous)
	next, _ := readPublic(p.next + ".pub")
	switch {
	case prev != nil && equal(prev, signer.PublicKey()) && next != nil && exists(p.next):
		return true, install(dir, p) // stopped before the private key was renamed
	case next != nil && equal(next, signer.PublicKey()) && !exists(p.next):
		if err := os.Rename(p.next+".pub", p.current+".pub"); err != nil {
			return false, fmt.Errorf("installing the next key's public half: %w", err)
		}
		return true, syncDir(dir)
	}
	return false, fmt.Errorf("%w, and not in a way `ca rotate %s` can finish: compare the %s files in %s with docs/operations.md", ErrIncomplete, kind, kind.File(), dir)
}

// Retire ends the trust in kind's previous key: its public half is renamed
// to KIND_ca.retired-TIME.pub, which nothing reads. It returns the new
// state and the retired file's path, and refuses when there is no previous
// key ([ErrNoPrevious]).
func Retire(dir string, kind Kind, o Options) (*Key, string, error) {
	k, err := Load(dir, kind)
	if err != nil {
		return nil, "", err
	}
	if k.Previous == nil {
		return nil, "", fmt.Errorf("%w for the %s CA (phase %s)", ErrNoPrevious, kind, k.Phase())
	}
	p := pathsOf(dir, kind)
	retired := filepath.Join(dir, kind.File()+".retired-"+o.Now.UTC().Format("20060102T150405Z")+".pub")
	if exists(retired) {
		return nil, "", fmt.Errorf("%s exists already", retired)
	}
	if err := os.Rename(p.previous, retired); err != nil {
		return nil, "", fmt.Errorf("retiring the previous %s key: %w", kind, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, "", err
	}
	k, err = Load(dir, kind)
	return k, retired, err
}

// writeNew creates path (never replacing one), writes data and syncs.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
