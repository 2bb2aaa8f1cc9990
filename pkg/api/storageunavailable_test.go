package api_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/versitygwtest"
	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recstore/s3store"
	"github.com/lockbox-ssh/lockbox/pkg/store/sqlstore"
)

// A recordings bucket that is down: the upload is answered 503
// storage_unavailable with a message that says so (no endpoint or S3
// detail), a replay likewise, and once the bucket is back the bastion's
// retry stores the recording and it replays.
func TestABucketThatIsDownAnswersStorageUnavailable(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, "recordings")
	recs, err := s3store.Open(s3store.Config{Bucket: "recordings", Endpoint: srv.Endpoint(), Region: versitygwtest.Region, PathStyle: true,
		AccessKey: versitygwtest.AccessKey, SecretKey: versitygwtest.SecretKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "lockbox.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := newServerStoringIn(t, st, recs, nil)
	id := s.openSession(t)
	rec := bytes.Repeat([]byte("recorded output\n"), 4096)

	srv.Stop(t)
	err = s.client(t, "bastion:bastion-1").UploadRecording(ctx, id, bytes.NewReader(rec))
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 503 || ce.Code != "storage_unavailable" {
		t.Fatalf("upload with the bucket down: %v (%#v), want 503 storage_unavailable", err, err)
	}
	if !strings.Contains(ce.Message, "cannot reach its recording storage") || strings.Contains(ce.Message, srv.Addr) {
		t.Errorf("message %q: want one that says so, without the endpoint", ce.Message)
	}

	srv.Restart(t, false)
	if err := s.client(t, "bastion:bastion-1").UploadRecording(ctx, id, bytes.NewReader(rec)); err != nil {
		t.Fatalf("the retry once the bucket is back: %v", err)
	}
	got, err := s.client(t, "user:erin").Recording(ctx, id)
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("replay: %d bytes, %v", len(got), err)
	}
	srv.Stop(t)
	_, err = s.client(t, "user:erin").Recording(ctx, id)
	if !errors.As(err, &ce) || ce.Status != 503 || ce.Code != "storage_unavailable" {
		t.Fatalf("replay with the bucket down: %v, want 503 storage_unavailable", err)
	}
}
