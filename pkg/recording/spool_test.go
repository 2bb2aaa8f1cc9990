package recording

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpenSpoolCreatesPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "spool")
	if _, err := OpenSpool(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	mustNil(t, err)
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("spool mode = %v, want 0700", perm)
	}
}

func TestOpenSpoolRefusesSharedDirectory(t *testing.T) {
	for _, mode := range []os.FileMode{0o770, 0o702, 0o777} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			mustNil(t, os.Chmod(dir, mode))
			if _, err := OpenSpool(dir); !errors.Is(err, ErrSpoolMode) {
				t.Errorf("OpenSpool on a %v directory = %v, want ErrSpoolMode", mode, err)
			}
		})
	}
	t.Run("readable by others is fine", func(t *testing.T) {
		dir := t.TempDir()
		mustNil(t, os.Chmod(dir, 0o755))
		if _, err := OpenSpool(dir); err != nil {
			t.Errorf("OpenSpool on a 0755 directory: %v", err)
		}
	})
}

func TestOpenSpoolRefusesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	mustNil(t, os.WriteFile(path, nil, 0o600))
	if _, err := OpenSpool(path); err == nil {
		t.Errorf("OpenSpool on a file succeeded")
	}
}

func TestSpoolCreateWritesPrivateFileOnce(t *testing.T) {
	s, dir := newTestSpool(t)
	w, err := s.Create("sess-1", testHeader(), WriterOptions{})
	mustNil(t, err)
	fi, err := os.Stat(filepath.Join(dir, "sess-1.cast.gz"))
	mustNil(t, err)
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("recording mode = %v, want 0600", perm)
	}
	if _, err := s.Create("sess-1", testHeader(), WriterOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create while writing = %v, want fs.ErrExist", err)
	}
	mustNil(t, w.Output([]byte("hello")))
	mustNil(t, w.Close())
	if _, err := s.Create("sess-1", testHeader(), WriterOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a finished recording = %v, want fs.ErrExist", err)
	}

	f, err := s.Open("sess-1")
	mustNil(t, err)
	defer f.Close()
	rec, err := Read(f, 1<<20)
	mustNil(t, err)
	if string(Output(rec)) != "hello" {
		t.Errorf("spooled recording output = %q", Output(rec))
	}
}

func TestSpoolCreateRefusedHeaderLeavesNoFile(t *testing.T) {
	s, dir := newTestSpool(t)
	if _, err := s.Create("sess-1", Header{}, WriterOptions{}); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("Create with a bad header = %v, want ErrBadHeader", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("spool holds %v after a refused Create", entries)
	}
	w, err := s.Create("sess-1", testHeader(), WriterOptions{})
	if err != nil {
		t.Fatalf("Create after a refused Create: %v", err)
	}
	mustNil(t, w.Close())
}

func TestSpoolRefusesBadSessionIDs(t *testing.T) {
	s, _ := newTestSpool(t)
	for _, id := range []string{"", "../etc", "a/b", "A", "a.cast", "a b", "a_b", strings.Repeat("a", 65), "é"} {
		t.Run(id, func(t *testing.T) {
			if _, err := s.Create(id, testHeader(), WriterOptions{}); !errors.Is(err, ErrBadSessionID) {
				t.Errorf("Create = %v, want ErrBadSessionID", err)
			}
			if _, err := s.Open(id); !errors.Is(err, ErrBadSessionID) {
				t.Errorf("Open = %v, want ErrBadSessionID", err)
			}
			if err := s.Remove(id); !errors.Is(err, ErrBadSessionID) {
				t.Errorf("Remove = %v, want ErrBadSessionID", err)
			}
		})
	}
	w, err := s.Create(strings.Repeat("a", 64), testHeader(), WriterOptions{})
	if err != nil {
		t.Fatalf("64-character ID refused: %v", err)
	}
	mustNil(t, w.Close())
}

func TestSpoolPendingListsFinishedOldestFirst(t *testing.T) {
	s, dir := newTestSpool(t)
	for _, id := range []string{"c", "a", "b"} {
		w, err := s.Create(id, testHeader(), WriterOptions{})
		mustNil(t, err)
		mustNil(t, w.Close())
	}
	// A crashed bastion's file, and things that are not recordings.
	mustNil(t, os.WriteFile(filepath.Join(dir, "crashed.cast.gz"), gzipped(t, validHeader+"\n[1, \"o\", \"a"), 0o600))
	mustNil(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600))
	mustNil(t, os.WriteFile(filepath.Join(dir, "Bad.cast.gz"), nil, 0o600))
	mustNil(t, os.WriteFile(filepath.Join(dir, "plain.cast"), nil, 0o600))
	mustNil(t, os.Mkdir(filepath.Join(dir, "d.cast.gz"), 0o700))
	for id, age := range map[string]time.Duration{"c": 3 * time.Hour, "a": time.Hour, "b": 2 * time.Hour, "crashed": 4 * time.Hour} {
		mod := time.Now().Add(-age)
		mustNil(t, os.Chtimes(filepath.Join(dir, id+".cast.gz"), mod, mod))
	}
	open, err := s.Create("open", testHeader(), WriterOptions{})
	mustNil(t, err)

	got, err := s.Pending()
	mustNil(t, err)
	if diff := cmp.Diff([]string{"crashed", "c", "b", "a"}, got); diff != "" {
		t.Errorf("Pending (-want +got):\n%s", diff)
	}
	if err := s.Remove("open"); !errors.Is(err, ErrSessionOpen) {
		t.Errorf("Remove of a recording being written = %v, want ErrSessionOpen", err)
	}

	mustNil(t, open.Close())
	mustNil(t, s.Remove("c"))
	got, err = s.Pending()
	mustNil(t, err)
	if len(got) != 4 || got[0] != "crashed" || got[3] != "open" {
		t.Errorf("Pending after closing one and removing another = %v", got)
	}
	if err := s.Remove("c"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Remove = %v, want fs.ErrNotExist", err)
	}
}

func TestSpoolCrashedFileReadsAsTruncated(t *testing.T) {
	s, dir := newTestSpool(t)
	data := validHeader + "\n" + `[1, "o", "ok"]` + "\n" + `[2, "o", "lo`
	mustNil(t, os.WriteFile(filepath.Join(dir, "crashed.cast.gz"), gzipped(t, data), 0o600))
	f, err := s.Open("crashed")
	mustNil(t, err)
	defer f.Close()
	rec, err := Read(f, 1<<20)
	mustNil(t, err)
	if !rec.Truncated || string(Output(rec)) != "ok" {
		t.Errorf("crashed recording: truncated=%v output=%q", rec.Truncated, Output(rec))
	}
}

func newTestSpool(t *testing.T) (*Spool, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := OpenSpool(dir)
	mustNil(t, err)
	return s, dir
}

// A spool whose directory is gone (or full, or read-only) says so before a
// session needs it, and leaves nothing behind when it is fine.
func TestSpoolCheckWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the check left %d files", len(entries))
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(); err == nil {
		t.Fatal("a spool without its directory is writable")
	}
}

// A session's end is kept beside its recording, read back as written,
// listed, and removed with the recording.
func TestSpoolKeepsASessionsEndUntilRemoved(t *testing.T) {
	s, err := OpenSpool(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ReadEnd("sess-a"); ok || err != nil {
		t.Fatalf("an end nobody wrote: %v %v", ok, err)
	}
	three := 3
	want := End{Time: time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC), Reason: "exited with status 3", ExitStatus: &three}
	if err := s.WriteEnd("sess-a", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.ReadEnd("sess-a")
	if err != nil || !ok || !cmp.Equal(got, want) {
		t.Fatalf("read back %+v %v %v, want %+v", got, ok, err, want)
	}
	if ids, err := s.Ended(); err != nil || !cmp.Equal(ids, []string{"sess-a"}) {
		t.Fatalf("Ended() = %v, %v", ids, err)
	}
	if ids, _ := s.Pending(); len(ids) != 0 {
		t.Fatalf("an end file is listed as a recording: %v", ids)
	}
	w, err := s.Create("sess-a", Header{Width: 80, Height: 24}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := s.Remove("sess-a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ReadEnd("sess-a"); ok {
		t.Fatal("the end outlived its recording's removal")
	}
	if err := s.WriteEnd("../x", want); err == nil {
		t.Fatal("a bad session ID was accepted")
	}
}

// A break-glass session's note is kept beside its recording, read back
// as written, listed apart from ends and recordings, refused when it
// grows past its bound, and removed with the recording.
func TestSpoolKeepsABreakGlassNoteUntilRemoved(t *testing.T) {
	s, _ := newTestSpool(t)
	if _, ok, err := s.ReadBreakGlass("bg-a"); ok || err != nil {
		t.Fatalf("a note nobody wrote: %v %v", ok, err)
	}
	want := BreakGlass{Certificate: "ssh-ed25519-cert-v01@openssh.com AAAA", ClientAddr: "192.0.2.7:5000", Command: "df -h",
		Start: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.WriteBreakGlass("bg-a", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.ReadBreakGlass("bg-a")
	if err != nil || !ok || !cmp.Equal(got, want) {
		t.Fatalf("read back %+v %v %v, want %+v", got, ok, err, want)
	}
	if ids, err := s.BreakGlassSessions(); err != nil || !cmp.Equal(ids, []string{"bg-a"}) {
		t.Fatalf("BreakGlassSessions() = %v, %v", ids, err)
	}
	if ids, _ := s.Ended(); len(ids) != 0 {
		t.Fatalf("a note is listed as an end: %v", ids)
	}
	w, err := s.Create("bg-a", Header{Width: 80, Height: 24}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := s.Remove("bg-a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ReadBreakGlass("bg-a"); ok {
		t.Fatal("the note outlived its recording's removal")
	}
	big := want
	big.Command = strings.Repeat("x", maxGlassFile)
	if err := s.WriteBreakGlass("bg-b", big); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ReadBreakGlass("bg-b"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("an oversized note: %v", err)
	}
	if err := s.RemoveBreakGlass("bg-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteBreakGlass("../x", want); !errors.Is(err, ErrBadSessionID) {
		t.Fatalf("a bad ID: %v", err)
	}
}
