package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/lockbox-ssh/lockbox/internal/versitygwtest"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

const recordingsBucket = "lockbox-recordings"

// refusedUpload is what the bastion logs for a 503 storage_unavailable.
const refusedUpload = "the CA cannot reach its recording storage"

// s3CAConfig writes a CA config file that keeps recordings in the
// bucket on srv, the keys in files, and returns the flags naming it.
func s3CAConfig(t *testing.T, srv *versitygwtest.Server) []string {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ak, sk := write("access-key", versitygwtest.AccessKey+"\n"), write("secret-key", versitygwtest.SecretKey+"\n")
	cfg := write("ca.yaml", fmt.Sprintf(`recordings: s3://%s/prod/
recordings_s3:
  endpoint: %s
  region: %s
  path_style: true
  access_key_file: %s
  secret_key_file: %s
  timeout: 5s
`, recordingsBucket, srv.Endpoint(), versitygwtest.Region, ak, sk))
	return []string{"--config", cfg}
}

// s3Objects lists the objects in the recordings bucket.
func s3Objects(t *testing.T, srv *versitygwtest.Server) []string {
	var out []string
	for o := range srv.Client(t).ListObjects(context.Background(), recordingsBucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// auditActions lists the actions audited about subject, as erin (an
// auditor) reads them.
func (c *ca) auditActions(subject string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(c.ok("erin", "--json", "audit")), "\n") {
		var r wire.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			c.t.Fatalf("audit line %q: %v", line, err)
		}
		if r.Subject == subject {
			out = append(out, r.Action)
		}
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// A session through the real bastion is recorded into the bucket (the
// CA's own disk holds none), and a second CA replica on the same MySQL
// database, sharing no filesystem with the first, replays it from there.
// A recording changed in the bucket is refused by both and audited.
func TestRecordingsInS3AreSharedByReplicas(t *testing.T) {
	t.Parallel()
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, recordingsBucket)
	w := newWorld(t, worldOptions{driver: "mysql", caFlags: s3CAConfig(t, srv)})
	other := w.ca.replica()
	b := w.bastion(nil, "--mfa_remember", "1h")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")
	r := w.run(b, key, w.code("alice", 0), nil, "sh", "-c", `'seq 1 2000; echo recorded in the bucket'`)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "recorded in the bucket\n") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	s, _ := w.recordingOf("alice")
	if objs := s3Objects(t, srv); len(objs) != 1 || objs[0] != "prod/"+s.ID+".cast.gz" {
		t.Fatalf("objects in the bucket: %v, want prod/%s.cast.gz", objs, s.ID)
	}
	if entries, _ := os.ReadDir(filepath.Join(w.ca.dir, "recordings")); len(entries) != 0 {
		t.Fatalf("the CA's data directory holds recordings: %v", entries)
	}
	out := other.ok("erin", "replay", s.ID, "--speed", "1000")
	if !strings.Contains(out, "1999\r\n2000\r\nrecorded in the bucket") && !strings.Contains(out, "1999\n2000\nrecorded in the bucket") {
		t.Fatalf("the other replica's replay: %q", out[max(0, len(out)-200):])
	}

	// Someone with write access to the bucket changes the recording.
	ctx := context.Background()
	obj, err := srv.Client(t).GetObject(ctx, recordingsBucket, "prod/"+s.ID+".cast.gz", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	data[len(data)/2] ^= 0x40
	if _, err := srv.Client(t).PutObject(ctx, recordingsBucket, "prod/"+s.ID+".cast.gz", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*ca{w.ca, other} {
		if res := c.lockbox("erin", "replay", s.ID, "--speed", "1000"); res.code == 0 || !strings.Contains(res.stderr, "does not match the recording stored") {
			t.Fatalf("a changed recording: exit %d, stderr %q", res.code, res.stderr)
		}
	}
	if n := countOf(w.ca.auditActions(s.ID), "recording.mismatch"); n != 2 {
		t.Fatalf("%d recording.mismatch rows, want one per refused replay", n)
	}
}

// The bucket refuses writes, then is down: sessions still run (they
// need only the bastion's spool), each upload is answered 503
// storage_unavailable and audited, the recording stays in the spool, and
// once the bucket is back the bastion's retry stores it.
func TestTheBastionKeepsRecordingsWhileTheBucketRefusesOrIsDown(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, recordingsBucket)
	w := newWorld(t, worldOptions{caFlags: s3CAConfig(t, srv)})
	b := w.bastion(nil, "--mfa_remember", "1h", "--upload_retry_interval", "1s")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")

	srv.Restart(t, true) // read-only: every write is refused
	r := w.run(b, key, w.code("alice", 0), nil, "echo", "while the bucket refuses writes")
	if r.code != 0 {
		t.Fatalf("a session while the bucket refuses writes: exit %d, %q", r.code, r.stderr)
	}
	var list []wire.Session
	if err := json.Unmarshal([]byte(w.ca.ok("alice", "--json", "sessions")), &list); err != nil || len(list) != 1 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	id := list[0].ID
	waitFor(t, 30*time.Second, "two refused uploads", func() bool {
		return strings.Count(b.log.String(), refusedUpload) >= 2
	})
	spooled := filepath.Join(b.dir, "spool", id+".cast.gz")
	if _, err := os.Stat(spooled); err != nil {
		t.Fatalf("the refused recording is not in the spool: %v", err)
	}
	if n := countOf(w.ca.auditActions(id), "recording.store_failed"); n < 2 {
		t.Fatalf("%d recording.store_failed rows, want one per refused upload", n)
	}

	srv.Stop(t)
	failed := strings.Count(b.log.String(), refusedUpload)
	waitFor(t, 30*time.Second, "an upload refused with the bucket down", func() bool {
		return strings.Count(b.log.String(), refusedUpload) > failed
	})
	if _, err := os.Stat(spooled); err != nil {
		t.Fatalf("the recording left the spool while the bucket was down: %v", err)
	}

	srv.Restart(t, false)
	s, rec := w.recordingOf("alice")
	if out := string(recording.Output(rec)); s.ID != id || out != "while the bucket refuses writes\n" {
		t.Fatalf("the stored recording of %s: %q", s.ID, out)
	}
	waitFor(t, 10*time.Second, "the spool to be emptied", func() bool {
		_, err := os.Stat(spooled)
		return os.IsNotExist(err)
	})
	if objs := s3Objects(t, srv); len(objs) != 1 {
		t.Fatalf("objects in the bucket: %v", objs)
	}
}

// A bucket the store says does not exist stops the CA at start, saying
// so; one it cannot reach is a warning and the CA serves.
func TestTheCAChecksTheRecordingsBucketAtStart(t *testing.T) {
	t.Parallel()
	srv := versitygwtest.Start(t, versitygwtest.Options{}) // no bucket made
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	flags := s3CAConfig(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "ca"), append([]string{"serve", "--data", c.dir, "--policy", c.policy,
		"--listen", "127.0.0.1:0", "--metrics_listen", "off"}, flags...)...)
	cmd.Env = append(os.Environ(), "LOCKBOX_STORE_DRIVER=sqlite", "LOCKBOX_STORE_DSN="+c.dsn)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "S3 bucket "+recordingsBucket+" does not exist") {
		t.Fatalf("ca serve with a missing bucket: %v\n%s", err, out)
	}
	srv.Stop(t)
	c.start(flags...)
	if !strings.Contains(c.log.String(), "the recordings bucket cannot be reached now") {
		t.Fatalf("no warning about the unreachable bucket:\n%s", c.log.String())
	}
}

// The S3 server killed while the CA streams a recording into it (its
// multipart upload under way) and started again: nothing half-written
// becomes the recording, the bastion keeps it, and its retry stores all
// of it.
func TestTheS3ServerKilledDuringAnUploadAndRestarted(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, recordingsBucket)
	w := newWorld(t, worldOptions{caFlags: s3CAConfig(t, srv)})
	b := w.bastion(nil, "--mfa_remember", "1h", "--upload_retry_interval", "1s")
	w.enroll("alice")
	_, key := w.grant("alice", "admin", "1h")

	// Incompressible output, so that the upload takes a while.
	uploading, stop := make(chan struct{}), make(chan struct{})
	defer close(stop)
	s3c := srv.Client(t)
	go func() {
		defer close(uploading)
		for {
			for u := range s3c.ListIncompleteUploads(context.Background(), recordingsBucket, "", true) {
				if u.Err == nil {
					return
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond): // polling the S3 server, not standing in for synchronisation
			}
		}
	}()
	r := w.run(b, key, w.code("alice", 0), nil, "sh", "-c", `'head -c 30000000 /dev/urandom | base64 -w 0; echo; echo end of output'`)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "end of output\n") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	select {
	case <-uploading:
	case <-time.After(2 * time.Minute):
		t.Fatal("no upload began within 2m")
	}
	if len(s3Objects(t, srv)) != 0 {
		t.Fatal("the upload finished before the server could be killed during it; make the output larger")
	}
	srv.Stop(t)
	waitFor(t, 30*time.Second, "the cut upload to be refused", func() bool {
		return strings.Contains(b.log.String(), "recording upload failed")
	})
	srv.Restart(t, false)
	_, rec := w.recordingOf("alice")
	if got := recording.Output(rec); !bytes.Equal(got, []byte(r.stdout)) {
		t.Fatalf("the recording holds %d bytes of output, the client received %d", len(got), len(r.stdout))
	}
	if objs := s3Objects(t, srv); len(objs) != 1 {
		t.Fatalf("objects in the bucket: %v", objs)
	}
}
