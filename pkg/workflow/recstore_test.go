package workflow_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// faultyRecordings wraps a real store with failures on demand.
type faultyRecordings struct {
	recstore.Store
	putErr, getErr error
}

func (f *faultyRecordings) Put(id string, r io.Reader, max int64) (int64, string, error) {
	if f.putErr != nil {
		io.Copy(io.Discard, r) //nolint:errcheck // as a store that fails at the end would
		return 0, "", f.putErr
	}
	return f.Store.Put(id, r, max)
}

func (f *faultyRecordings) Get(id string) (io.ReadCloser, error) {
	if f.getErr != nil {
		return nil, f.getErr
	}
	return f.Store.Get(id)
}

func recordingsEnv(t *testing.T) (*env, *faultyRecordings, string, string) {
	e := newEnv(t, nil)
	dir := filepath.Join(t.TempDir(), "recordings")
	d, err := recstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs := &faultyRecordings{Store: d}
	e.svc = e.serviceWith(e.st, func(c *workflow.Config) { c.Recordings = recs })
	r := e.submit("alice", "health", []string{"db-1"}, time.Hour, "")
	g, err := e.startSession("alice", r.ID, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	return e, recs, g.Session.ID, dir
}

// A store that is down or full: the upload is refused with a named
// error (the API answers 503 storage_unavailable or 507 storage_full),
// nothing is recorded as stored, the failure is audited, and the same
// upload later succeeds.
func TestAStoreThatIsDownOrFullRefusesTheUploadAndAuditsIt(t *testing.T) {
	for name, c := range map[string]struct{ storeErr, want error }{
		"down": {fmt.Errorf("%w: S3 storing: connection refused", recstore.ErrUnavailable), workflow.ErrStorageUnavailable},
		"full": {fmt.Errorf("%w: S3 storing: InsufficientStorage", recstore.ErrFull), workflow.ErrStorageFull},
	} {
		t.Run(name, func(t *testing.T) {
			e, recs, id, _ := recordingsEnv(t)
			body := "{\"version\":2}\n[0.5,\"o\",\"hello\"]\n"
			recs.putErr = c.storeErr
			err := e.svc.StoreRecording(ctx, bastion, id, strings.NewReader(body))
			requireErr(t, err, c.want)
			if d := e.auditDetail(id, "recording.store_failed"); d["reason"] != c.want.Error() || d["user"] != "alice" {
				t.Errorf("audited %v", d)
			}
			if slices.Contains(e.actions(id), "recording.stored") {
				t.Fatal("a refused upload was recorded as stored")
			}
			_, _, err = e.svc.Recording(ctx, user("alice"), id)
			requireErr(t, err, workflow.ErrNoRecording)

			recs.putErr = nil
			if err := e.svc.StoreRecording(ctx, bastion, id, strings.NewReader(body)); err != nil {
				t.Fatalf("the retry: %v", err)
			}
			recs.getErr = fmt.Errorf("%w: S3 reading: connection refused", recstore.ErrUnavailable)
			_, _, err = e.svc.Recording(ctx, user("alice"), id)
			requireErr(t, err, workflow.ErrStorageUnavailable)
		})
	}
}

// A recording changed in the store after it was stored is not handed
// over whole: reading it ends in ErrRecordingMismatch, which is audited.
func TestAChangedRecordingIsRefusedAndAudited(t *testing.T) {
	e, _, id, dir := recordingsEnv(t)
	body := "{\"version\":2}\n[0.5,\"o\",\"hello\"]\n"
	if err := e.svc.StoreRecording(ctx, bastion, id, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(body, "hello", "HELLO", 1)
	if err := os.WriteFile(filepath.Join(dir, id+".cast.gz"), []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, _, err := e.svc.Recording(ctx, user("erin"), id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, workflow.ErrRecordingMismatch) || len(got) >= len(changed) {
		t.Fatalf("read %d bytes of a changed recording, %v; want ErrRecordingMismatch before the whole", len(got), err)
	}
	d := e.auditDetail(id, "recording.mismatch")
	if d["user"] != "alice" || d["sha256"] == "" || !strings.Contains(fmt.Sprint(d["error"]), "SHA-256") {
		t.Fatalf("audited %v", d)
	}
}

// A recording the CA stored that is gone from the store is refused as a
// mismatch, not answered "no recording yet", and audited.
func TestAMissingRecordingIsAMismatchAndAudited(t *testing.T) {
	e, _, id, dir := recordingsEnv(t)
	if err := e.svc.StoreRecording(ctx, bastion, id, strings.NewReader("{\"version\":2}\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, id+".cast.gz")); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.Recording(ctx, user("erin"), id)
	requireErr(t, err, workflow.ErrRecordingMismatch)
	if d := e.auditDetail(id, "recording.mismatch"); !strings.Contains(fmt.Sprint(d["error"]), "has no recording") {
		t.Fatalf("audited %v", d)
	}
}
