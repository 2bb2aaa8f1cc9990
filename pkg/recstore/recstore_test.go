package recstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/lockbox-ssh/lockbox/internal/versitygwtest"
	"github.com/lockbox-ssh/lockbox/pkg/recstore"
	"github.com/lockbox-ssh/lockbox/pkg/recstore/s3store"
)

// backend is one recording store under test, with what the tests need to
// look behind it.
type backend struct {
	store recstore.Store
	// leftovers lists what the store holds besides whole recordings
	// (temporary files, unfinished multipart uploads).
	leftovers func(t *testing.T) []string
	// objects lists the recordings' names.
	objects func(t *testing.T) []string
	// overwrite puts data where session id's recording is, behind the
	// store's back.
	overwrite func(t *testing.T, id string, data []byte)
}

// backends runs test on the local directory and on S3 (a real versitygw).
func backends(t *testing.T, test func(t *testing.T, b backend)) {
	t.Run("dir", func(t *testing.T) { test(t, dirBackend(t)) })
	t.Run("s3", func(t *testing.T) { test(t, s3Backend(t, versitygwtest.Start(t, versitygwtest.Options{}))) })
}

func dirBackend(t testing.TB) backend {
	dir := filepath.Join(t.TempDir(), "rec")
	d, err := recstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T, whole bool) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".cast.gz") == whole {
				out = append(out, e.Name())
			}
		}
		return out
	}
	return backend{store: d,
		leftovers: func(t *testing.T) []string { return list(t, false) },
		objects:   func(t *testing.T) []string { return list(t, true) },
		overwrite: func(t *testing.T, id string, data []byte) {
			if err := os.WriteFile(filepath.Join(dir, id+".cast.gz"), data, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
}

const testBucket = "recordings"

func s3Config(srv *versitygwtest.Server) s3store.Config {
	return s3store.Config{Bucket: testBucket, Prefix: "lockbox/rec", Endpoint: srv.Endpoint(), Region: versitygwtest.Region,
		PathStyle: true, AccessKey: versitygwtest.AccessKey, SecretKey: versitygwtest.SecretKey, Timeout: 5e9}
}

func s3Backend(t testing.TB, srv *versitygwtest.Server) backend {
	srv.MakeBucket(t, testBucket)
	s, err := s3store.Open(s3Config(srv))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return backend{store: s,
		leftovers: func(t *testing.T) []string {
			var out []string
			for u := range srv.Client(t).ListIncompleteUploads(context.Background(), testBucket, "", true) {
				if u.Err != nil {
					t.Fatal(u.Err)
				}
				out = append(out, "upload of "+u.Key)
			}
			return out
		},
		objects: func(t *testing.T) []string {
			var out []string
			for o := range srv.Client(t).ListObjects(context.Background(), testBucket, minio.ListObjectsOptions{Recursive: true}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				out = append(out, o.Key)
			}
			return out
		},
		overwrite: func(t *testing.T, id string, data []byte) {
			if _, err := srv.Client(t).PutObject(context.Background(), testBucket, s.Key(id), bytes.NewReader(data), int64(len(data)),
				minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func get(t *testing.T, s recstore.Store, id string) []byte {
	t.Helper()
	rc, err := s.Get(id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", id, err)
	}
	return b
}

func TestPutAndGet(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		body := []byte("{\"version\":2}\n[0.1,\"o\",\"hi\"]\n")
		n, got, err := b.store.Put("sess-1", bytes.NewReader(body), 1<<20)
		if err != nil || n != int64(len(body)) || got != sum(body) {
			t.Fatalf("put: %d %s %v; want %d %s", n, got, err, len(body), sum(body))
		}
		if got := get(t, b.store, "sess-1"); !bytes.Equal(got, body) {
			t.Fatalf("got %q", got)
		}
		if objs := b.objects(t); len(objs) != 1 {
			t.Fatalf("objects %v, want one", objs)
		}
	})
}

// A recording over several S3 parts (5 MiB each) is stored whole.
func TestPutStreamsALargeRecording(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		body := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16+3)
		n, got, err := b.store.Put("sess-big", bytes.NewReader(body), 1<<30)
		if err != nil || n != int64(len(body)) || got != sum(body) {
			t.Fatalf("put: %d %s %v", n, got, err)
		}
		if !bytes.Equal(get(t, b.store, "sess-big"), body) {
			t.Fatal("the recording read back differs")
		}
		if left := b.leftovers(t); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}

func TestPutReplacesAnEarlierUpload(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		for _, body := range []string{"first", "second upload"} {
			if _, _, err := b.store.Put("sess-1", strings.NewReader(body), 1<<20); err != nil {
				t.Fatal(err)
			}
		}
		if got := get(t, b.store, "sess-1"); string(got) != "second upload" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestRefusals(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		if _, _, err := b.store.Put("sess-1", strings.NewReader("0123456789"), 5); !errors.Is(err, recstore.ErrTooLarge) {
			t.Fatalf("oversize: %v", err)
		}
		if _, err := b.store.Get("sess-1"); !errors.Is(err, recstore.ErrNotFound) {
			t.Fatalf("an oversize upload was kept: %v", err)
		}
		for _, id := range []string{"../etc/passwd", "", "A", strings.Repeat("a", 65), "a/b"} {
			if _, _, err := b.store.Put(id, strings.NewReader("x"), 5); err == nil {
				t.Errorf("id %q accepted", id)
			}
			if _, err := b.store.Get(id); err == nil || errors.Is(err, recstore.ErrNotFound) {
				t.Errorf("get of id %q: %v, want a refusal", id, err)
			}
		}
		if objs, left := b.objects(t), b.leftovers(t); len(objs)+len(left) != 0 {
			t.Fatalf("left behind: %v %v", objs, left)
		}
	})
}

// failingReader fails after n bytes, as a body that does not match its
// digest or a client that went away.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// An upload whose body fails, after a first S3 part or within it,
// keeps nothing and leaves the earlier recording as it was; the error is
// the body's.
func TestFailedBodyKeepsNothing(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		if _, _, err := b.store.Put("sess-1", strings.NewReader("the earlier upload"), 1<<30); err != nil {
			t.Fatal(err)
		}
		bodyErr := errors.New("body does not match its digest")
		for _, n := range []int{100, 7 << 20} {
			_, _, err := b.store.Put("sess-1", &failingReader{n: n, err: bodyErr}, 1<<30)
			if !errors.Is(err, bodyErr) || errors.Is(err, recstore.ErrUnavailable) {
				t.Fatalf("failing body of %d bytes: %v, want the body's error", n, err)
			}
		}
		if got := get(t, b.store, "sess-1"); string(got) != "the earlier upload" {
			t.Fatalf("after failed uploads: %q", got)
		}
		if left := b.leftovers(t); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}

func TestGetMissing(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		if _, err := b.store.Get("no-such-session"); !errors.Is(err, recstore.ErrNotFound) {
			t.Fatalf("get of a missing recording: %v", err)
		}
	})
}

// A recording changed in the store after it was stored is caught when it
// is read through Verify, and never handed over whole.
func TestVerifyCatchesAChangedRecording(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		body := bytes.Repeat([]byte("session output\n"), 1000)
		size, digest, err := b.store.Put("sess-1", bytes.NewReader(body), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		read := func() ([]byte, int, error) {
			rc, err := b.store.Get("sess-1")
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			calls := 0
			got, err := io.ReadAll(recstore.Verify(rc, size, digest, func(error) { calls++ }))
			return got, calls, err
		}
		if got, calls, err := read(); err != nil || !bytes.Equal(got, body) || calls != 0 {
			t.Fatalf("the stored recording: %d bytes, %v, %d mismatch calls", len(got), err, calls)
		}
		changed := bytes.Clone(body)
		changed[len(changed)/2] ^= 1
		for name, data := range map[string][]byte{"one byte changed": changed, "cut short": body[:len(body)-1],
			"longer": append(bytes.Clone(body), '\n')} {
			b.overwrite(t, "sess-1", data)
			got, calls, err := read()
			if !errors.Is(err, recstore.ErrMismatch) || calls != 1 {
				t.Errorf("%s: %v after %d bytes, %d mismatch calls; want ErrMismatch once", name, err, len(got), calls)
			}
			if len(got) >= len(body) {
				t.Errorf("%s: handed over %d bytes of %d before the mismatch", name, len(got), len(body))
			}
		}
	})
}
