package api_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/api"
	"github.com/lockbox-ssh/lockbox/pkg/apiauth"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// startCounting serves s's API on a listener that counts what it reads.
func (s *server) startCounting(t *testing.T) (url string, read *atomic.Int64) {
	t.Helper()
	srv, err := api.New(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	read = new(atomic.Int64)
	hs.Listener = countingListener{hs.Listener, read}
	hs.Start()
	t.Cleanup(hs.Close)
	return hs.URL, read
}

// openSession starts a session of alice on db-1 as bastion-1.
func (s *server) openSession(t *testing.T) string {
	t.Helper()
	req, err := s.client(t, "user:alice").Submit(ctx, wireHealth())
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.client(t, "bastion:bastion-1").StartSession(ctx, wire.SessionStart{RequestID: req.ID, Resource: "db-1", User: "alice", ClientAddr: "192.0.2.1", Command: "uptime"})
	if err != nil {
		t.Fatal(err)
	}
	return g.SessionID
}

// uploadHead is the head of a PUT of a recording of length bytes: signed
// by signer for a body with digest, or unsigned if signer is nil.
func uploadHead(t *testing.T, base, id string, length int64, digest [sha256.Size]byte, signer *apiauth.Signer) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/v1/sessions/"+id+"/recording", nil)
	if signer != nil {
		if err := signer.SignStream(req, length, digest); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nContent-Type: application/x-asciicast\r\n", req.URL.RequestURI(), req.URL.Host, length)
	for _, h := range []string{"Authorization", "Content-Digest"} {
		if v := req.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", h, v)
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// rawUpload sends head, then streams body in the background, and returns
// the answer and how long it took from the head's sending.
func rawUpload(t *testing.T, base string, head []byte, body io.Reader) (*http.Response, []byte, time.Duration) {
	t.Helper()
	resp, b, took, err := rawUploadThenClose(t, base, head, body, false)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp, b, took
}

// rawUploadThenClose is rawUpload that, if closeWrite, ends the sending
// half of the connection after the body, as a sender that stopped short.
func rawUploadThenClose(t *testing.T, base string, head []byte, body io.Reader, closeWrite bool) (*http.Response, []byte, time.Duration, error) {
	t.Helper()
	conn, err := net.Dial("tcp", mustURL(t, base).Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t0 := time.Now()
	if _, err := conn.Write(head); err != nil {
		t.Fatal(err)
	}
	go func() {
		// The server may close the connection early: that is the point.
		if _, err := io.Copy(conn, body); err == nil && closeWrite {
			conn.(*net.TCPConn).CloseWrite() //nolint:errcheck // as a sender that stopped
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, 0, err
	}
	took := time.Since(t0)
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp, b, took, nil
}

// storedBytes is what the recordings directory holds, temporary files
// included.
func storedBytes(t *testing.T, dir string) (files int, size int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err == nil {
			files++
			size += fi.Size()
		}
	}
	return files, size
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// An unauthenticated 100 MB upload is refused from its headers, within a
// second, with next to nothing of its body read and nothing stored.
func TestUnauthenticatedUploadIsRefusedBeforeAnyBodyByte(t *testing.T) {
	const size = 100_000_000
	s := newServer(t)
	base, read := s.startCounting(t)
	id := "sess-aaaaaaaaaaaaaaaa"
	digest := sha256.Sum256(nil) // a declaration, true or not, costs the sender nothing
	for _, tc := range []struct {
		name   string
		signer *apiauth.Signer
		code   string
	}{
		{"no signature", nil, "unauthenticated"},
		{"a forged signature", &apiauth.Signer{Principal: "bastion:bastion-1", Key: newSigner(t)}, "unknown_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := read.Load()
			resp, b, took := rawUpload(t, base, uploadHead(t, base, id, size, digest, tc.signer), io.LimitReader(zeros{}, size))
			consumed := read.Load() - before
			files, stored := storedBytes(t, s.recs)
			t.Logf("refused after %v; the CA read %d bytes of the connection; %d bytes stored", took, consumed, stored)
			if resp.StatusCode != http.StatusUnauthorized || errorCode(t, b) != tc.code {
				t.Fatalf("got %d %s, want 401 %s", resp.StatusCode, b, tc.code)
			}
			if took > time.Second {
				t.Errorf("refused after %v, want within a second", took)
			}
			if consumed > 1<<20 {
				t.Errorf("the CA read %d bytes before refusing, want at most 1 MiB (the headers and what the kernel had buffered)", consumed)
			}
			if files != 0 {
				t.Errorf("%d files (%d bytes) in the recordings directory, want none", files, stored)
			}
		})
	}
}

// A body other than the one the signature declares is not kept; the
// bastion's retry with the right body is.
func TestUploadThatDoesNotMatchItsDeclarationIsNotKept(t *testing.T) {
	s := newServer(t)
	id := s.openSession(t)
	bastion := &apiauth.Signer{Principal: "bastion:bastion-1", Key: s.keys["bastion:bastion-1"]}
	good := bytes.Repeat([]byte("recorded output\n"), 4096)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 1
	head := uploadHead(t, s.url, id, int64(len(good)), sha256.Sum256(good), bastion)
	resp, b, _ := rawUpload(t, s.url, head, bytes.NewReader(bad))
	if resp.StatusCode != http.StatusBadRequest || errorCode(t, b) != "bad_request" {
		t.Fatalf("changed body: %d %s, want 400 bad_request", resp.StatusCode, b)
	}
	if files, _ := storedBytes(t, s.recs); files != 0 {
		t.Fatalf("a changed body left %d files", files)
	}
	// A sender that stops short: there may be no answer to read (the CA
	// sees the connection end), but nothing may be kept.
	head = uploadHead(t, s.url, id, int64(len(good)), sha256.Sum256(good), bastion)
	rawUploadThenClose(t, s.url, head, bytes.NewReader(good[:len(good)-10]), true) //nolint:errcheck // see above
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := storedBytes(t, s.recs)
		if files == 0 && s.wf != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a short body left %d files", files)
		}
		time.Sleep(10 * time.Millisecond) // polling for the CA to remove its temporary file
	}
	if err := s.client(t, "bastion:bastion-1").UploadRecording(ctx, id, bytes.NewReader(good)); err != nil {
		t.Fatalf("the retry with the declared body: %v", err)
	}
	if files, size := storedBytes(t, s.recs); files != 1 || size != int64(len(good)) {
		t.Fatalf("after the retry: %d files, %d bytes; want the recording", files, size)
	}
}

// Uploads received at once are bounded in number and in declared bytes:
// one beyond either bound is refused at once (503 uploads_busy, before a
// byte of it is read) and one larger than the byte bound can never fit
// (413); once room is free, the bastion's retry is taken.
func TestConcurrentUploadsAreBoundedInNumberAndBytes(t *testing.T) {
	s := newServerWith(t, func(c *api.Config) { c.MaxUploads, c.MaxUploadBytes = 2, 100_000 })
	id := s.openSession(t)
	bastion := &apiauth.Signer{Principal: "bastion:bastion-1", Key: s.keys["bastion:bastion-1"]}
	upload := func(body []byte) (int, string) {
		head := uploadHead(t, s.url, id, int64(len(body)), sha256.Sum256(body), bastion)
		resp, b, _ := rawUpload(t, s.url, head, bytes.NewReader(body))
		code := ""
		if resp.StatusCode >= 400 {
			code = errorCode(t, b)
		}
		return resp.StatusCode, code
	}

	// An upload that has declared 60,000 bytes and sent 10 holds its room.
	big := bytes.Repeat([]byte("x"), 60_000)
	conn, err := net.Dial("tcp", mustURL(t, s.url).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(uploadHead(t, s.url, id, int64(len(big)), sha256.Sum256(big), bastion)) //nolint:errcheck // checked by the answer
	conn.Write(big[:10])                                                               //nolint:errcheck // checked by the answer
	deadline := time.Now().Add(10 * time.Second)
	for files, _ := storedBytes(t, s.recs); files == 0; files, _ = storedBytes(t, s.recs) {
		if time.Now().After(deadline) {
			t.Fatal("the first upload never reached the recording store")
		}
		time.Sleep(5 * time.Millisecond) // polling for the CA to start storing it
	}

	if status, code := upload(bytes.Repeat([]byte("y"), 50_000)); status != http.StatusServiceUnavailable || code != "uploads_busy" {
		t.Fatalf("an upload past the byte bound: %d %s, want 503 uploads_busy", status, code)
	}
	if status, code := upload(bytes.Repeat([]byte("z"), 200_000)); status != http.StatusRequestEntityTooLarge || code != "too_large" {
		t.Fatalf("an upload larger than the byte bound: %d %s, want 413 too_large", status, code)
	}
	// A second small upload fits beside the first (2 at once, 60,010 bytes).
	if status, code := upload([]byte("small")); status != http.StatusNoContent {
		t.Fatalf("a second upload within both bounds: %d %s, want 204", status, code)
	}

	// Two at once: hold a second one and a third is refused by number.
	conn2, err := net.Dial("tcp", mustURL(t, s.url).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	small := []byte("another small one")
	conn2.Write(uploadHead(t, s.url, id, int64(len(small)), sha256.Sum256(small), bastion)) //nolint:errcheck // checked by the answer
	conn2.Write(small[:3])                                                                  //nolint:errcheck // checked by the answer
	deadline = time.Now().Add(10 * time.Second)
	for files, _ := storedBytes(t, s.recs); files < 3; files, _ = storedBytes(t, s.recs) { // two temporary files and the stored one
		if time.Now().After(deadline) {
			t.Fatal("the second held upload never reached the recording store")
		}
		time.Sleep(5 * time.Millisecond) // polling for the CA to start storing it
	}
	if status, code := upload([]byte("tiny")); status != http.StatusServiceUnavailable || code != "uploads_busy" {
		t.Fatalf("a third upload at once: %d %s, want 503 uploads_busy", status, code)
	}

	// The held uploads finish; the refused one's retry is taken.
	for _, c := range []struct {
		conn net.Conn
		rest []byte
	}{{conn, big[10:]}, {conn2, small[3:]}} {
		c.conn.Write(c.rest) //nolint:errcheck // checked by the answer
		resp, err := http.ReadResponse(bufio.NewReader(c.conn), nil)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("a held upload, finished: %v %v", resp, err)
		}
	}
	if status, code := upload(bytes.Repeat([]byte("y"), 50_000)); status != http.StatusNoContent {
		t.Fatalf("the retry once room is free: %d %s, want 204", status, code)
	}
}
