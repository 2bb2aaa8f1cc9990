package evidence

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

// Manifest lists every other file of a bundle with its size and SHA-256.
type Manifest struct {
	Format  string `json:"format"`
	Request string `json:"request"`
	Files   []File `json:"files"`
}

// File is one file of a bundle, by its slash-separated path in it.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// rowJSON is an audit row in audit/rows.jsonl. Detail is the stored JSON
// as a string, byte for byte, since the row's hash covers those bytes.
type rowJSON struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Subject  string    `json:"subject"`
	Detail   string    `json:"detail"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// Bundle is what Write puts in a directory.
type Bundle struct {
	Request string
	// Segment holds the chain's rows from the request's submission
	// through the checkpoint's row (see SegmentOf).
	Segment    []audit.Record
	Checkpoint audit.SignedCheckpoint
	// Recording opens the stored recording of a session, for each of the
	// grant's sessions whose recording was stored.
	Recording func(session string) (io.ReadCloser, error)
}

// Write writes the bundle into dir, which must not exist yet, and returns
// its summary. It writes into a temporary directory beside dir and renames
// it, so dir appears whole or not at all. A recording whose size or
// SHA-256 is not the one its audit row states is refused.
func Write(dir string, b Bundle) (*Summary, error) {
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("evidence: %s exists already; name a new directory", dir)
	}
	s, certs, err := summarize(b.Request, b.Segment, b.Checkpoint.Checkpoint)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), "."+filepath.Base(dir)+".*")
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // gone after the rename
	w := &bundleWriter{root: tmp}
	w.writeJSON(SummaryFile, s)
	w.writeRows(b.Segment)
	w.write(CheckpointFile, b.Checkpoint.Bundle())
	for _, c := range s.Certificates {
		if c.File != "" {
			w.write(c.File, certs[c.File])
		}
	}
	for _, sess := range s.Sessions {
		if sess.Recording != nil {
			w.writeRecording(sess.ID, *sess.Recording, b.Recording)
		}
	}
	slices.SortFunc(w.files, func(a, b File) int { return cmpString(a.Path, b.Path) })
	w.writeJSON(ManifestFile, Manifest{Format: Format, Request: b.Request, Files: w.files})
	if w.err != nil {
		return nil, w.err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return s, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bundleWriter writes files under root, noting each in files; its first
// error is sticky.
type bundleWriter struct {
	root  string
	files []File
	err   error
}

func (w *bundleWriter) create(name string) (*os.File, error) {
	path := filepath.Join(w.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// copyFrom writes what r holds into name, returning its size and SHA-256.
func (w *bundleWriter) copyFrom(name string, r io.Reader) (int64, string) {
	if w.err != nil {
		return 0, ""
	}
	f, err := w.create(name)
	if err != nil {
		w.err = fmt.Errorf("evidence: writing %s: %w", name, err)
		return 0, ""
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.err = fmt.Errorf("evidence: writing %s: %w", name, err)
		return 0, ""
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if name != ManifestFile {
		w.files = append(w.files, File{Path: name, Size: n, SHA256: sum})
	}
	return n, sum
}

func (w *bundleWriter) write(name string, data []byte) { w.copyFrom(name, bytes.NewReader(data)) }

func (w *bundleWriter) writeJSON(name string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("evidence: encoding %s: %w", name, err)
	}
	w.write(name, append(data, '\n'))
}

func (w *bundleWriter) writeRows(rows []audit.Record) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range rows {
		// The detail is written as a JSON string, which would not keep
		// bytes that are not UTF-8 (the row's hash covers them).
		if !utf8.Valid(r.Detail) && w.err == nil {
			w.err = fmt.Errorf("evidence: audit row %d: its detail is not UTF-8", r.Seq)
		}
		if err := enc.Encode(toRowJSON(r)); err != nil && w.err == nil {
			w.err = fmt.Errorf("evidence: encoding audit row %d: %w", r.Seq, err)
		}
	}
	w.write(RowsFile, buf.Bytes())
}

func (w *bundleWriter) writeRecording(session string, want Recording, open func(string) (io.ReadCloser, error)) {
	if w.err != nil {
		return
	}
	if open == nil {
		w.err = fmt.Errorf("evidence: no way to read the recording of session %s", session)
		return
	}
	r, err := open(session)
	if err != nil {
		w.err = fmt.Errorf("evidence: reading the recording of session %s: %w", session, err)
		return
	}
	defer r.Close()
	n, sum := w.copyFrom(want.File, bufio.NewReaderSize(r, 64<<10))
	if w.err == nil && (n != want.Size || sum != want.SHA256) {
		w.err = fmt.Errorf("evidence: the recording of session %s has %d bytes with SHA-256 %s; its audit row %d stored %d bytes with %s",
			session, n, sum, want.Seq, want.Size, want.SHA256)
	}
}

func toRowJSON(r audit.Record) rowJSON {
	return rowJSON{Seq: r.Seq, Time: r.Time.UTC(), Actor: r.Actor, Action: r.Action, Subject: r.Subject,
		Detail: string(r.Detail), PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash)}
}

func fromRowJSON(j rowJSON) (audit.Record, error) {
	prev, err1 := hex.DecodeString(j.PrevHash)
	hash, err2 := hex.DecodeString(j.Hash)
	if err := errors.Join(err1, err2); err != nil {
		return audit.Record{}, fmt.Errorf("row %d: a hash is not hex", j.Seq)
	}
	return audit.Record{Seq: j.Seq, Time: j.Time, Actor: j.Actor, Action: j.Action, Subject: j.Subject,
		Detail: json.RawMessage(j.Detail), PrevHash: prev, Hash: hash}, nil
}
