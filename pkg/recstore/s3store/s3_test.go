package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/internal/tinyfs"
	"github.com/lockbox-ssh/lockbox/internal/versitygwtest"
	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/recstore/s3store"
)

const bucket = "recordings"

func open(t *testing.T, srv *versitygwtest.Server) *s3store.Store {
	t.Helper()
	s, err := s3store.Open(s3store.Config{Bucket: bucket, Prefix: "rec", Endpoint: srv.Endpoint(), Region: versitygwtest.Region,
		PathStyle: true, AccessKey: versitygwtest.AccessKey, SecretKey: versitygwtest.SecretKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func read(t *testing.T, s *s3store.Store, id string) string {
	t.Helper()
	rc, err := s.Get(id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func incomplete(t *testing.T, srv *versitygwtest.Server) int {
	n := 0
	for u := range srv.Client(t).ListIncompleteUploads(context.Background(), bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		n++
	}
	return n
}

// A store that is down answers ErrUnavailable, quickly, to reads and
// writes; once it is back the same upload succeeds.
func TestServerDownIsUnavailable(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, bucket)
	s := open(t, srv)
	if _, _, err := s.Put("sess-1", strings.NewReader("kept"), 1<<20); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	start := time.Now()
	if _, _, err := s.Put("sess-2", strings.NewReader("later"), 1<<20); !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("put with the store down: %v, want ErrUnavailable", err)
	}
	if _, err := s.Get("sess-1"); !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("get with the store down: %v, want ErrUnavailable", err)
	}
	if err := s.Check(context.Background()); !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("check with the store down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("answering with the store down took %v", d)
	}
	srv.Restart(t, false)
	if _, _, err := s.Put("sess-2", strings.NewReader("later"), 1<<20); err != nil {
		t.Fatalf("put once the store is back: %v", err)
	}
	if got := read(t, s, "sess-2"); got != "later" {
		t.Fatalf("got %q", got)
	}
}

// gatedReader hands over first, then waits for release before the rest.
type gatedReader struct {
	first, rest []byte
	reached     chan struct{} // closed once, when the rest is first asked for
	release     chan struct{}
	once        sync.Once
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.first) > 0 {
		n := copy(p, g.first)
		g.first = g.first[n:]
		return n, nil
	}
	g.once.Do(func() {
		close(g.reached)
		<-g.release
	})
	if len(g.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	return n, nil
}

// The S3 server killed in the middle of an upload (a first part already
// in): the upload fails as unavailable and nothing is stored; after a
// restart the same upload again stores the whole recording.
func TestServerKilledDuringAnUpload(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, bucket)
	s := open(t, srv)
	body := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16)
	g := &gatedReader{first: body[:6<<20], rest: body[6<<20:], reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { _, _, err := s.Put("sess-1", g, 1<<30); done <- err }()
	select {
	case <-g.reached: // the first 5 MiB part is sent, the next is being read
	case err := <-done:
		t.Fatalf("the upload ended before the server was stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the upload did not reach its second part")
	}
	srv.Stop(t)
	close(g.release)
	select {
	case err := <-done:
		if !errors.Is(err, recstore.ErrUnavailable) {
			t.Fatalf("upload cut by the server's death: %v, want ErrUnavailable", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the upload did not end after the server died")
	}
	srv.Restart(t, false)
	if _, err := s.Get("sess-1"); !errors.Is(err, recstore.ErrNotFound) {
		t.Fatalf("after the cut upload: %v, want no recording", err)
	}
	n, _, err := s.Put("sess-1", bytes.NewReader(body), 1<<30)
	if err != nil || n != int64(len(body)) {
		t.Fatalf("the retry: %d %v", n, err)
	}
	if got := read(t, s, "sess-1"); got != string(body) {
		t.Fatalf("the retried recording differs (%d bytes, want %d)", len(got), len(body))
	}
}

// A gateway that refuses writes: Put answers ErrUnavailable, stores
// nothing, and earlier recordings are still served.
func TestBucketRefusingWrites(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, bucket)
	s := open(t, srv)
	if _, _, err := s.Put("sess-1", strings.NewReader("before"), 1<<20); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t, true)
	_, _, err := s.Put("sess-2", strings.NewReader("refused"), 1<<20)
	if !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("put to a read-only gateway: %v, want ErrUnavailable", err)
	}
	if got := read(t, s, "sess-1"); got != "before" {
		t.Fatalf("earlier recording: %q", got)
	}
	if _, err := s.Get("sess-2"); !errors.Is(err, recstore.ErrNotFound) {
		t.Fatalf("refused upload: %v, want no recording", err)
	}
	srv.Restart(t, false)
	if _, _, err := s.Put("sess-2", strings.NewReader("stored"), 1<<20); err != nil {
		t.Fatalf("once writes are allowed again: %v", err)
	}
}

// A bucket on a full disk answers ErrFull; freeing space lets the same
// upload through.
func TestFullBucket(t *testing.T) {
	dir := tinyfs.Mount(t, 2<<20)
	srv := versitygwtest.Start(t, versitygwtest.Options{Dir: dir})
	srv.MakeBucket(t, bucket)
	s := open(t, srv)
	filler := tinyfs.Fill(t, dir)
	body := bytes.Repeat([]byte("recorded output\n"), 8192) // 128 KiB
	_, _, err := s.Put("sess-1", bytes.NewReader(body), 1<<20)
	if !errors.Is(err, recstore.ErrFull) {
		t.Fatalf("put to a full bucket: %v, want ErrFull", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put("sess-1", bytes.NewReader(body), 1<<20); err != nil {
		t.Fatalf("put once there is room: %v", err)
	}
	if n := incomplete(t, srv); n != 0 {
		t.Fatalf("%d unfinished uploads left", n)
	}
}

func TestCheck(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	s := open(t, srv)
	if err := s.Check(context.Background()); err == nil || errors.Is(err, recstore.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("check of a missing bucket: %v", err)
	}
	srv.MakeBucket(t, bucket)
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad, err := s3store.Open(s3store.Config{Bucket: bucket, Endpoint: srv.Endpoint(), Region: versitygwtest.Region, PathStyle: true,
		AccessKey: versitygwtest.AccessKey, SecretKey: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Check(context.Background()); !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("check with a wrong secret: %v", err)
	}
}

// A store that hangs (its process stopped: connections accepted, nothing
// answered or read), before an upload or in the middle of one, fails it
// within a few multiples of the timeout instead of holding it for ever;
// once it continues, the upload goes through.
func TestAHungServerTimesOut(t *testing.T) {
	srv := versitygwtest.Start(t, versitygwtest.Options{})
	srv.MakeBucket(t, bucket)
	s, err := s3store.Open(s3store.Config{Bucket: bucket, Endpoint: srv.Endpoint(), Region: versitygwtest.Region, PathStyle: true,
		AccessKey: versitygwtest.AccessKey, SecretKey: versitygwtest.SecretKey, Timeout: time.Second,
		PartSize: 32 << 20}) // more than the loopback socket buffers take in, so a write to a hung store stalls
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), (80<<20)/16)
	if _, _, err := s.Put("sess-1", bytes.NewReader(body[:1000]), 1<<30); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			srv.Resume(t)
		}
	})

	// Hung before the upload: no answer to its first request.
	srv.Pause(t)
	start := time.Now()
	if _, _, err := s.Put("sess-2", bytes.NewReader(body), 1<<30); !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("put to a hung store: %v, want ErrUnavailable", err)
	}
	if _, err := s.Get("sess-1"); !errors.Is(err, recstore.ErrUnavailable) {
		t.Fatalf("get from a hung store: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("a hung store held the calls for %v with a 1s timeout", d)
	}
	srv.Resume(t)

	// Hung in the middle: the first part is in, the second is being sent.
	g := &gatedReader{first: body[:33<<20], rest: body[33<<20:], reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { _, _, err := s.Put("sess-3", g, 1<<30); done <- err }()
	select {
	case <-g.reached:
	case err := <-done:
		t.Fatalf("the upload ended before the store hung: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the upload did not reach its second part")
	}
	srv.Pause(t)
	start = time.Now()
	close(g.release)
	select {
	case err := <-done:
		if !errors.Is(err, recstore.ErrUnavailable) {
			t.Fatalf("an upload the store stopped reading: %v, want ErrUnavailable", err)
		}
		t.Logf("after %v: %v", time.Since(start), err)
	case <-time.After(20 * time.Second):
		t.Fatal("an upload the store stopped reading still hangs after 20s with a 1s timeout")
	}
	srv.Resume(t)
	resumed = true
	if _, _, err := s.Put("sess-3", bytes.NewReader(body), 1<<30); err != nil {
		t.Fatalf("put once the store continues: %v", err)
	}
}
