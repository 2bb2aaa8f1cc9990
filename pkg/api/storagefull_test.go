package api_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/internal/tinyfs"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// A full recordings disk is answered as such (507 storage_full, a message
// that says so, the detail in the CA's log), nothing half-written is
// left, and the bastion's retry once there is room stores the recording.
func TestFullRecordingsDiskAnswersStorageFullAndTheRetryWorks(t *testing.T) {
	dir := tinyfs.Mount(t, 256<<10)
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := newServerRecordingTo(t, st, dir)
	id := s.openSession(t)
	filler := tinyfs.Fill(t, dir)
	rec := bytes.Repeat([]byte("recorded output\n"), 4096) // 64 KiB

	err = s.client(t, "bastion:bastion-1").UploadRecording(ctx, id, bytes.NewReader(rec))
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 507 || ce.Code != "storage_full" {
		t.Fatalf("upload to a full disk: %v (%#v), want 507 storage_full", err, err)
	}
	if !strings.Contains(ce.Message, "storage is full") || strings.Contains(ce.Message, dir) {
		t.Errorf("message %q: want one that says the storage is full, without the CA's paths", ce.Message)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("after the refusal the directory holds %d entries, want only the filler", len(entries))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.client(t, "bastion:bastion-1").UploadRecording(ctx, id, bytes.NewReader(rec)); err != nil {
		t.Fatalf("the retry once there is room: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, id+".cast.gz"))
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("stored recording: %d bytes, %v; want the %d uploaded", len(got), err, len(rec))
	}
}
