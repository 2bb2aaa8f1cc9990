// Package recstore keeps session recordings for the CA: one object per
// session, SESSION.cast.gz, as the bastion uploaded it (gzip-compressed
// asciicast v2; see pkg/recording). Two stores implement Store: Dir, a
// local directory (the default; several CA replicas need it on shared
// storage), and S3, a bucket of an S3-compatible object store that every
// replica reads and writes. Either way a recording is whole or absent,
// and Put returns its size and SHA-256 for the CA to record; Verify checks
// them again when a recording is read.
package recstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// ErrTooLarge: the recording is over the size limit.
var ErrTooLarge = errors.New("recording too large")

// ErrNotFound: there is no recording for the session.
var ErrNotFound = errors.New("no recording")

// ErrUnavailable: the store could not be reached, or refused to store or
// serve the recording (an object store that is down, denies writes or has
// no room). Nothing was stored; the same call may succeed later.
var ErrUnavailable = errors.New("recording store unavailable")

// ErrFull: the store has no room (a full disk or a bucket over its
// quota). Nothing was stored; the same upload succeeds once there is room.
var ErrFull = errors.New("recording store full")

// Store keeps recordings. Put stores r as the recording of session id,
// replacing any earlier one (a bastion that lost the acknowledgement
// uploads again), and returns its size and SHA-256; nothing is kept if r
// holds more than max bytes (ErrTooLarge) or fails (r's error). Get opens
// a recording (ErrNotFound if there is none).
type Store interface {
	Put(id string, r io.Reader, max int64) (size int64, sha256 string, err error)
	Get(id string) (io.ReadCloser, error)
}

// CheckID refuses a session ID that cannot name a recording.
func CheckID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("bad session ID %q", id)
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// Dir stores recordings in a directory.
type Dir struct{ path string }

// Open makes the directory (0700) if needed.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("recordings directory: %w", err)
	}
	return &Dir{path: path}, nil
}

func (d *Dir) file(id string) (string, error) {
	if err := CheckID(id); err != nil {
		return "", err
	}
	return filepath.Join(d.path, id+".cast.gz"), nil
}

// Put stores r as the recording of session id, replacing any earlier
// upload (a bastion that lost the acknowledgement uploads again), and
// returns its size and SHA-256. Nothing is kept if r holds more than max
// bytes or fails.
func (d *Dir) Put(id string, r io.Reader, max int64) (int64, string, error) {
	path, err := d.file(id)
	if err != nil {
		return 0, "", err
	}
	tmp, err := os.CreateTemp(d.path, ".upload-*")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return 0, "", fmt.Errorf("%w: %w", ErrFull, err)
	}
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Get opens the recording of session id.
func (d *Dir) Get(id string) (io.ReadCloser, error) {
	path, err := d.file(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w for %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}
