package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// world is a grant's history: an audit chain with another grant's rows
// interleaved, real certificates and real recordings.
type world struct {
	t                       testing.TB
	userCA, hopCA, auditKey ssh.Signer
	rows                    []audit.Record
	recordings              map[string][]byte
	now                     time.Time
}

func (w *world) add(actor, action, subject string, detail map[string]any) {
	w.t.Helper()
	prevSeq, prev := int64(0), audit.Genesis
	if n := len(w.rows); n > 0 {
		prevSeq, prev = w.rows[n-1].Seq, w.rows[n-1].Hash
	}
	w.now = w.now.Add(time.Second)
	r, err := audit.Seal(prevSeq, prev, audit.Event{Time: w.now, Actor: actor, Action: action, Subject: subject, Detail: detail})
	if err != nil {
		w.t.Fatal(err)
	}
	w.rows = append(w.rows, r)
}

func (w *world) certificate(kind string, ca ssh.Signer, serial uint64, principals []string) {
	w.t.Helper()
	key := newSigner(w.t)
	cert := &ssh.Certificate{Key: key.PublicKey(), Serial: serial, CertType: ssh.UserCert, KeyId: fmt.Sprintf("alice/req-1/%d", serial),
		ValidPrincipals: principals, ValidAfter: uint64(w.now.Add(-time.Minute).Unix()), ValidBefore: uint64(w.now.Add(time.Hour).Unix()),
		Permissions: ssh.Permissions{CriticalOptions: map[string]string{"force-command": "/usr/local/bin/lockbox-gate"}}}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		w.t.Fatal(err)
	}
	w.add("user:alice", kind+"cert.issued", "req-1", map[string]any{
		"serial": fmt.Sprint(serial), "key_id": cert.KeyId, "principals": principals,
		"valid_after": time.Unix(int64(cert.ValidAfter), 0).UTC(), "valid_before": time.Unix(int64(cert.ValidBefore), 0).UTC(),
		"fingerprint": ssh.FingerprintSHA256(key.PublicKey()),
		"certificate": strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert))),
	})
}

type fileBuf struct{ bytes.Buffer }

func (f *fileBuf) Sync() error  { return nil }
func (f *fileBuf) Close() error { return nil }

func (w *world) session(id, output string, status int) {
	w.t.Helper()
	w.add("bastion:bastion-1", "session.started", id, map[string]any{"user": "alice", "resource": "db-1", "client": "192.0.2.1:5555",
		"request": "req-1", "role": "admin", "command": "uptime"})
	var f fileBuf
	rw, err := recording.NewWriter(&f, recording.Header{Width: 80, Height: 24, Session: id, User: "alice", Resource: "db-1", Request: "req-1"}, recording.WriterOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	rw.Exec("uptime")             //nolint:errcheck // a buffer does not fail
	rw.Output([]byte(output))     //nolint:errcheck
	rw.ExitStatus(uint32(status)) //nolint:errcheck
	if err := rw.Close(); err != nil {
		w.t.Fatal(err)
	}
	w.add("system", "request.escalated", "req-2", nil) // another grant's row between
	w.add("bastion:bastion-1", "session.ended", id, map[string]any{"user": "alice", "request": "req-1", "resource": "db-1",
		"reason": fmt.Sprintf("exited with status %d", status), "duration": "1s", "exit_status": status})
	sum := sha256.Sum256(f.Bytes())
	w.add("bastion:bastion-1", "recording.stored", id, map[string]any{"size": f.Len(), "sha256": hex.EncodeToString(sum[:]), "user": "alice"})
	w.recordings[id] = bytes.Clone(f.Bytes())
}

// newWorld builds the history of req-1: submitted, approved by two people,
// a grant certificate and a hop certificate, and two sessions with their
// recordings, with rows of others before, between and after.
func newWorld(t testing.TB) *world {
	w := &world{t: t, userCA: newSigner(t), hopCA: newSigner(t), auditKey: newSigner(t), recordings: map[string][]byte{}, now: t0}
	w.add("user:bob", "request.submitted", "req-0", map[string]any{"user": "bob", "role": "reader", "resources": []string{"web-1"}})
	w.add("user:alice", "request.submitted", "req-1", map[string]any{"user": "alice", "role": "admin", "resources": []string{"db-1"},
		"duration": "1h0m0s", "reason": "INC-7: disk full", "ticket": "INC-7"})
	w.add("user:carol", "approval.recorded", "req-1", map[string]any{"reason": "looks right", "outstanding": []string{"1 of group security"}})
	w.add("user:bob", "approval.refused", "req-0", map[string]any{"reason": "self-approval"})
	w.add("user:frank", "approval.recorded", "req-1", map[string]any{"reason": "ok", "outstanding": []string{}})
	w.add("system", "request.approved", "req-1", map[string]any{"not_before": w.now, "not_after": w.now.Add(time.Hour), "duration": "1h0m0s"})
	w.certificate("user", w.userCA, 1001, []string{"admin@db-1"})
	w.certificate("hop", w.hopCA, 1002, []string{"admin@db-1"})
	w.session("sess-a", "load average: 0.01\r\n", 0)
	w.session("sess-b", "load average: 9.99\r\n", 3)
	w.add("user:erin", "recording.viewed", "sess-a", nil)
	w.add("user:alice", "grant.revoked", "req-1", map[string]any{"reason": "done"})
	w.add("user:bob", "request.submitted", "req-3", map[string]any{"user": "bob"})
	return w
}

func (w *world) signedCheckpoint() audit.SignedCheckpoint {
	w.t.Helper()
	last := w.rows[len(w.rows)-1]
	cp, err := audit.NewCheckpoint(last.Seq, last.Hash, w.now)
	if err != nil {
		w.t.Fatal(err)
	}
	sc, err := audit.SignCheckpoint(cp, w.auditKey, rand.Reader)
	if err != nil {
		w.t.Fatal(err)
	}
	return sc
}

func (w *world) keys() Keys {
	return Keys{Audit: w.auditKey.PublicKey(), UserCA: []ssh.PublicKey{w.userCA.PublicKey()}, HopCA: []ssh.PublicKey{w.hopCA.PublicKey()}}
}

// bundle writes req-1's bundle and returns its directory.
func (w *world) bundle() string {
	w.t.Helper()
	cp := w.signedCheckpoint()
	seg, err := SegmentOf("req-1", w.rows, cp.Checkpoint)
	if err != nil {
		w.t.Fatal(err)
	}
	dir := filepath.Join(w.t.TempDir(), "evidence")
	_, err = Write(dir, Bundle{Request: "req-1", Segment: seg, Checkpoint: cp, Recording: func(id string) (io.ReadCloser, error) {
		data, ok := w.recordings[id]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}})
	if err != nil {
		w.t.Fatal(err)
	}
	return dir
}

func TestBundleOfGrantWithTwoSessionsVerifies(t *testing.T) {
	w := newWorld(t)
	dir := w.bundle()
	rep, err := Verify(dir, w.keys())
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary
	if s.Request.User != "alice" || s.Request.Reason != "INC-7: disk full" || s.Request.Seq != 2 {
		t.Errorf("request %+v", s.Request)
	}
	if len(s.Approvals) != 2 || s.Approvals[0].By != "user:carol" || s.Approvals[0].Reason != "looks right" || s.Approvals[1].By != "user:frank" {
		t.Errorf("approvals %+v", s.Approvals)
	}
	if len(s.Certificates) != 2 || s.Certificates[0].Serial != "1001" || s.Certificates[0].Kind != "user" || s.Certificates[1].Kind != "hop" ||
		s.Certificates[0].File != "certificates/1001-cert.pub" {
		t.Errorf("certificates %+v", s.Certificates)
	}
	if len(s.Sessions) != 2 || s.Sessions[0].ID != "sess-a" || s.Sessions[1].ExitStatus == nil || *s.Sessions[1].ExitStatus != 3 ||
		s.Sessions[0].Recording == nil || s.Sessions[0].Recording.Size != int64(len(w.recordings["sess-a"])) {
		t.Errorf("sessions %+v", s.Sessions)
	}
	if len(s.Decisions) != 2 || s.Decisions[0].Action != "request.approved" || s.Decisions[1].Action != "grant.revoked" {
		t.Errorf("decisions %+v", s.Decisions)
	}
	if len(s.Other) != 1 || s.Other[0].Action != "recording.viewed" {
		t.Errorf("other rows %+v", s.Other)
	}
	// Neither the rows of req-0 before it nor those of req-2 and req-3
	// count as the grant's.
	for _, seq := range s.Rows {
		if r := w.rows[seq-1]; r.Subject == "req-0" || r.Subject == "req-2" || r.Subject == "req-3" {
			t.Errorf("row %d (%s of %s) counted as the grant's", seq, r.Action, r.Subject)
		}
	}
	if s.Segment.First != 2 || s.Segment.Last != int64(len(w.rows)) || s.Checkpoint.Seq != s.Segment.Last {
		t.Errorf("segment %+v, checkpoint %+v", s.Segment, s.Checkpoint)
	}
	if rep.Files != 8 { // manifest, summary, rows, checkpoint, 2 certificates, 2 recordings
		t.Errorf("%d files", rep.Files)
	}
}

// problems returns the files Verify names, failing if it accepts.
func problems(t *testing.T, dir string, keys Keys) map[string]string {
	t.Helper()
	_, err := Verify(dir, keys)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Verify: %v, want an *Error", err)
	}
	out := map[string]string{}
	for _, p := range e.Problems {
		out[p.File] += p.Detail + "; "
	}
	return out
}

// flipByte changes one byte in the middle of a file to another that keeps
// text text.
func flipByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := len(data) / 2
	for data[i] == '"' || data[i] == '\\' || data[i] == '\n' { // keep the JSON's shape where it can
		i++
	}
	switch {
	case data[i] >= '0' && data[i] <= '8', data[i] >= 'a' && data[i] <= 'y', data[i] >= 'A' && data[i] <= 'Y':
		data[i]++
	case data[i] < 0x80 && data[i] != '9' && data[i] != 'z' && data[i] != 'Z':
		data[i] = 'x'
	default:
		data[i] ^= 0x01
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rehash rewrites the manifest to match the files, as someone who changed
// a file would, so that the deeper checks must catch the change.
func rehash(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m.Files[i].Size, m.Files[i].SHA256 = int64(len(b)), hex.EncodeToString(sum[:])
	}
	out, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBundleWithOneChangedByteFailsNamingTheFile(t *testing.T) {
	w := newWorld(t)
	for _, file := range []string{ManifestFile, SummaryFile, RowsFile, CheckpointFile, "certificates/1001-cert.pub", "certificates/1002-cert.pub", "recordings/sess-a.cast.gz"} {
		for _, rehashed := range []bool{false, true} {
			if file == ManifestFile && rehashed {
				continue
			}
			t.Run(fmt.Sprintf("%s rehashed=%v", file, rehashed), func(t *testing.T) {
				dir := w.bundle()
				flipByte(t, filepath.Join(dir, filepath.FromSlash(file)))
				if rehashed {
					rehash(t, dir)
				}
				got := problems(t, dir, w.keys())
				if _, ok := got[file]; !ok {
					t.Fatalf("the problems name %v, not %s", got, file)
				}
			})
		}
	}
}

func TestBundleWithSwappedRecordingsFailsNamingBoth(t *testing.T) {
	w := newWorld(t)
	dir := w.bundle()
	a, b := filepath.Join(dir, "recordings", "sess-a.cast.gz"), filepath.Join(dir, "recordings", "sess-b.cast.gz")
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	os.WriteFile(a, db, 0o644) //nolint:errcheck
	os.WriteFile(b, da, 0o644) //nolint:errcheck
	rehash(t, dir)
	got := problems(t, dir, w.keys())
	if !strings.Contains(got["recordings/sess-a.cast.gz"], "holds the recording of session sess-b, not of session sess-a (swapped)") ||
		!strings.Contains(got["recordings/sess-b.cast.gz"], "holds the recording of session sess-a") {
		t.Fatalf("problems %v", got)
	}
}

func TestBundleWithDroppedAuditRowFailsNamingTheRow(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		line int // 0-based line of rows.jsonl to drop; -1 the last
		want string
	}{
		{"first row (the submission)", 0, "no submission of the request req-1"},
		{"an approval", 1, "missing: rows 3 to 3 were deleted"},
		{"the last row", -1, "the checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := w.bundle()
			path := filepath.Join(dir, filepath.FromSlash(RowsFile))
			data, _ := os.ReadFile(path)
			lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
			i := tc.line
			if i < 0 {
				i = len(lines) - 1
			}
			lines = append(lines[:i], lines[i+1:]...)
			out := strings.Join(lines, "")
			if !strings.HasSuffix(out, "\n") {
				out += "\n"
			}
			os.WriteFile(path, []byte(out), 0o644) //nolint:errcheck
			rehash(t, dir)
			got := problems(t, dir, w.keys())
			all := fmt.Sprint(got)
			if !strings.Contains(all, RowsFile) && !strings.Contains(all, SummaryFile) || !strings.Contains(all, tc.want) {
				t.Fatalf("problems %v, want one saying %q", got, tc.want)
			}
		})
	}
}

func TestBundleChecksAgainstTheKeysGiven(t *testing.T) {
	w := newWorld(t)
	dir := w.bundle()
	other := newWorld(t) // other CA keys
	if got := problems(t, dir, Keys{Audit: other.auditKey.PublicKey(), UserCA: w.keys().UserCA}); got[CheckpointFile] == "" {
		t.Errorf("another audit key: %v", got)
	}
	got := problems(t, dir, Keys{Audit: w.auditKey.PublicKey(), UserCA: other.keys().UserCA, HopCA: w.keys().HopCA})
	if !strings.Contains(got["certificates/1001-cert.pub"], "not by the user CA key given") {
		t.Errorf("another user CA: %v", got)
	}
	// Without the hop CA key the hop certificate's signature is not
	// checked, and the report says so.
	rep, err := Verify(dir, Keys{Audit: w.auditKey.PublicKey(), UserCA: w.keys().UserCA})
	if err != nil || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "hop certificate 1002") {
		t.Errorf("without the hop CA: %v, notes %q", err, rep.Notes)
	}
}

func TestBundleWithFileAddedOrRemovedFails(t *testing.T) {
	w := newWorld(t)
	dir := w.bundle()
	os.WriteFile(filepath.Join(dir, "recordings", "extra.cast.gz"), []byte("x"), 0o644) //nolint:errcheck
	if got := problems(t, dir, w.keys()); !strings.Contains(got["recordings/extra.cast.gz"], "not listed") {
		t.Errorf("an added file: %v", got)
	}
	dir = w.bundle()
	os.Remove(filepath.Join(dir, "recordings", "sess-b.cast.gz")) //nolint:errcheck
	if got := problems(t, dir, w.keys()); got["recordings/sess-b.cast.gz"] == "" {
		t.Errorf("a removed recording: %v", got)
	}
}

func TestWriteRefusesRecordingThatIsNotTheStoredOne(t *testing.T) {
	w := newWorld(t)
	w.recordings["sess-a"] = w.recordings["sess-b"]
	cp := w.signedCheckpoint()
	seg, _ := SegmentOf("req-1", w.rows, cp.Checkpoint)
	dir := filepath.Join(t.TempDir(), "evidence")
	_, err := Write(dir, Bundle{Request: "req-1", Segment: seg, Checkpoint: cp, Recording: func(id string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(w.recordings[id])), nil
	}})
	if err == nil || !strings.Contains(err.Error(), "recording of session sess-a") {
		t.Fatalf("Write: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused bundle left %s behind: %v", dir, err)
	}
}

// FuzzVerifyRows hands the verifier audit rows it did not write: it must
// never panic, and must accept, and summarise, only the rows written.
func FuzzVerifyRows(f *testing.F) {
	w := newWorld(f)
	cp := w.signedCheckpoint()
	seg, err := SegmentOf("req-1", w.rows, cp.Checkpoint)
	if err != nil {
		f.Fatal(err)
	}
	var good bytes.Buffer
	enc := json.NewEncoder(&good)
	for _, r := range seg {
		enc.Encode(toRowJSON(r)) //nolint:errcheck // a buffer does not fail
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte(`{"seq":1,"time":"2026-01-01T00:00:00Z","actor":"","action":"","subject":"","detail":"{}","prev_hash":"00","hash":"zz"}` + "\n"))
	f.Add([]byte("{}\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := &verifier{keys: w.keys()}
		rows := v.parseRows(bytes.NewReader(data), cp, true)
		if rows == nil {
			if len(v.problems) == 0 {
				t.Fatal("rows refused without a problem named")
			}
			return
		}
		if len(v.problems) > 0 {
			t.Fatalf("rows returned with problems %v", v.problems)
		}
		if len(rows) != len(seg) || rows[0].Seq != seg[0].Seq {
			t.Fatalf("accepted %d rows from %d, not the %d written", len(rows), rows[0].Seq, len(seg))
		}
		if _, err := Summarize("req-1", rows, cp.Checkpoint); err != nil {
			t.Fatalf("the written rows do not summarise: %v", err)
		}
	})
}

// FuzzManifest feeds the manifest reader names and shapes it did not
// write: it never panics, and any path it accepts stays inside the bundle.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"format":"lockbox-evidence-v1","request":"req-1","files":[{"path":"evidence.json","size":1,"sha256":"00"}]}`))
	f.Add([]byte(`{"format":"lockbox-evidence-v1","request":"req-1","files":[{"path":"../etc/passwd","size":1,"sha256":"00"}]}`))
	f.Add([]byte(`{"format":"lockbox-evidence-v1","request":"req-1","files":[{"path":"a//b","size":1,"sha256":"00"},{"path":"/x"}]}`))
	f.Add([]byte(`{"format":"lockbox-evidence-v1","request":"r","files":[],"extra":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Manifest
		if decodeStrict(data, &m) != nil {
			return
		}
		for _, file := range m.Files {
			if validPath(file.Path) && (!filepath.IsLocal(filepath.FromSlash(file.Path)) || strings.Contains(file.Path, "\\")) {
				t.Fatalf("accepted %q, which leaves the bundle", file.Path)
			}
		}
	})
}

// BenchmarkVerify verifies a bundle whose two recordings hold 8 MiB each
// and whose segment holds 10,000 other rows.
func BenchmarkVerify(b *testing.B) {
	w := newWorld(b)
	for i := range 10000 {
		w.add("user:bob", "request.submitted", fmt.Sprintf("req-x%d", i), map[string]any{"user": "bob", "role": "reader", "reason": "load"})
	}
	big := make([]byte, 8<<20)
	for id := range w.recordings {
		rand.Read(big) //nolint:errcheck // never fails
		w.recordings[id] = bytes.Clone(big)
	}
	// The recording.stored rows must state the new contents: rebuild them.
	for i, r := range w.rows {
		if r.Action != "recording.stored" {
			continue
		}
		sum := sha256.Sum256(w.recordings[r.Subject])
		d, _ := json.Marshal(map[string]any{"size": len(w.recordings[r.Subject]), "sha256": hex.EncodeToString(sum[:]), "user": "alice"})
		w.rows[i].Detail = d
	}
	w.reseal()
	dir := w.bundle()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Verify(dir, w.keys()); err != nil {
			b.Fatal(err)
		}
	}
}

// reseal recomputes every row's links and hashes after a change.
func (w *world) reseal() {
	w.t.Helper()
	prevSeq, prev := int64(0), audit.Genesis
	for i, r := range w.rows {
		var d map[string]any
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			w.t.Fatal(err)
		}
		n, err := audit.Seal(prevSeq, prev, audit.Event{Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject, Detail: d})
		if err != nil {
			w.t.Fatal(err)
		}
		w.rows[i] = n
		prevSeq, prev = n.Seq, n.Hash
	}
}
