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
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

// Limits on what Verify reads, so a bundle cannot make it use unbounded
// memory: the JSON files and each audit row are read whole.
const (
	maxManifest    = 16 << 20
	maxSummary     = 64 << 20
	maxRowLine     = 1 << 20
	maxRows        = 256 << 20
	maxCheckpoint  = 16 << 10
	maxCertificate = 64 << 10
	maxFiles       = 100000
)

// Keys are the public keys a verifier trusts, obtained outside the bundle.
type Keys struct {
	Audit  ssh.PublicKey   // signs audit checkpoints; required
	UserCA []ssh.PublicKey // signs grant certificates; required if the grant has one
	HopCA  []ssh.PublicKey // signs hop certificates; without it their signatures are not checked
}

// Problem is one thing wrong with a bundle, naming its file.
type Problem struct {
	File   string `json:"file"`
	Detail string `json:"problem"`
}

func (p Problem) String() string { return p.File + ": " + p.Detail }

// ErrInvalid is wrapped by every *Error.
var ErrInvalid = errors.New("evidence: the bundle does not verify")

// Error lists everything found wrong with a bundle.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("the evidence bundle does not verify (%d problems): %s", len(e.Problems), strings.Join(lines, "; "))
}

func (e *Error) Unwrap() error { return ErrInvalid }

// Report is what a bundle that verifies proves.
type Report struct {
	Summary *Summary `json:"summary"`
	Files   int      `json:"files"`
	// Notes say what was not checked, and why.
	Notes []string `json:"notes,omitempty"`
}

// verifier gathers problems while it checks one bundle.
type verifier struct {
	root     *os.Root
	keys     Keys
	problems []Problem
	notes    []string
}

func (v *verifier) problem(file, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: file, Detail: fmt.Sprintf(format, args...)})
}

// Verify checks the bundle in dir with nothing but keys: that every file
// is the one the manifest lists; that the checkpoint is signed by the
// audit key; that the audit rows form an unbroken chain from the request's
// submission to the row the checkpoint states, with that row's hash; that
// evidence.json is what those rows say of the grant; that each
// certificate is the one its row holds and is signed by its CA; and that
// each recording has the size and SHA-256 its recording.stored row
// states. It returns an *Error listing every problem, each naming its file.
func Verify(dir string, keys Keys) (*Report, error) {
	if keys.Audit == nil {
		return nil, errors.New("evidence: verifying needs the audit key")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer root.Close()
	v := &verifier{root: root, keys: keys}
	m, ok := v.manifest()
	if !ok {
		return nil, &Error{Problems: v.problems}
	}
	v.files(m)
	cp, cpOK := v.checkpoint()
	rows := v.rows(cp, cpOK)
	var derived *Summary
	var certs map[string][]byte
	if rows != nil && cpOK {
		var err error
		if derived, certs, err = summarize(m.Request, rows, cp.Checkpoint); err != nil {
			v.problem(RowsFile, "%v", err)
		}
	}
	if derived != nil {
		v.summary(derived)
		v.certificates(derived, certs)
		v.recordings(derived)
		v.expectedFiles(m, derived)
	}
	if len(v.problems) > 0 {
		return nil, &Error{Problems: v.problems}
	}
	return &Report{Summary: derived, Files: len(m.Files) + 1, Notes: v.notes}, nil
}

// readFile reads a file of the bundle, at most limit bytes.
func (v *verifier) readFile(name string, limit int64) ([]byte, error) {
	f, err := v.root.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// decodeStrict decodes data into out, refusing unknown fields and
// anything after the value.
func decodeStrict(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func (v *verifier) manifest() (*Manifest, bool) {
	data, err := v.readFile(ManifestFile, maxManifest)
	if err != nil {
		v.problem(ManifestFile, "unreadable: %v", err)
		return nil, false
	}
	var m Manifest
	if err := decodeStrict(data, &m); err != nil {
		v.problem(ManifestFile, "not a manifest: %v", err)
		return nil, false
	}
	if m.Format != Format {
		v.problem(ManifestFile, "format %q, want %q", m.Format, Format)
		return nil, false
	}
	if m.Request == "" || len(m.Files) > maxFiles {
		v.problem(ManifestFile, "names no request, or too many files")
		return nil, false
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if !validPath(f.Path) || f.Path == ManifestFile || seen[f.Path] {
			v.problem(ManifestFile, "lists %q, which is not a plain relative file name, or twice", f.Path)
			return nil, false
		}
		seen[f.Path] = true
	}
	return &m, true
}

// validPath reports whether p is a clean, relative, slash-separated path
// of plain names.
func validPath(p string) bool {
	if p == "" || len(p) > 300 || path.Clean(p) != p || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || p == ".." {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || !safeName(part, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") {
			return false
		}
	}
	return true
}

// files checks every listed file's size and SHA-256, and that the bundle
// holds no file the manifest does not list.
func (v *verifier) files(m *Manifest) {
	listed := map[string]bool{ManifestFile: true}
	for _, f := range m.Files {
		listed[f.Path] = true
		size, sum, err := v.hash(f.Path)
		switch {
		case err != nil:
			v.problem(f.Path, "listed in the manifest but unreadable: %v", err)
		case size != f.Size || sum != f.SHA256:
			v.problem(f.Path, "changed: %d bytes with SHA-256 %s, the manifest lists %d bytes with %s", size, sum, f.Size, f.SHA256)
		}
	}
	err := fs.WalkDir(v.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			v.problem(p, "not a regular file")
		} else if !listed[p] {
			v.problem(p, "not listed in the manifest")
		}
		return nil
	})
	if err != nil {
		v.problem(".", "cannot list the bundle: %v", err)
	}
}

func (v *verifier) hash(name string) (int64, string, error) {
	f, err := v.root.Open(filepath.FromSlash(name))
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	if !st.Mode().IsRegular() {
		return 0, "", errors.New("not a regular file")
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

func (v *verifier) checkpoint() (audit.SignedCheckpoint, bool) {
	data, err := v.readFile(CheckpointFile, maxCheckpoint)
	if err != nil {
		v.problem(CheckpointFile, "unreadable: %v", err)
		return audit.SignedCheckpoint{}, false
	}
	cps, err := audit.ParseSignedCheckpoints(data)
	if err != nil {
		v.problem(CheckpointFile, "%v", err)
		return audit.SignedCheckpoint{}, false
	}
	if len(cps) != 1 {
		v.problem(CheckpointFile, "holds %d checkpoints, want one", len(cps))
		return audit.SignedCheckpoint{}, false
	}
	if err := cps[0].Verify(v.keys.Audit); err != nil {
		v.problem(CheckpointFile, "%v", err)
		return audit.SignedCheckpoint{}, false
	}
	return cps[0], true
}

// rows reads the audit rows and checks that they chain to the checkpoint.
// It returns nil if they cannot be read at all.
func (v *verifier) rows(cp audit.SignedCheckpoint, cpOK bool) []audit.Record {
	f, err := v.root.Open(filepath.FromSlash(RowsFile))
	if err != nil {
		v.problem(RowsFile, "unreadable: %v", err)
		return nil
	}
	defer f.Close()
	return v.parseRows(f, cp, cpOK)
}

// parseRows reads audit rows, one JSON object a line, and checks that they
// chain to cp if cpOK.
func (v *verifier) parseRows(f io.Reader, cp audit.SignedCheckpoint, cpOK bool) []audit.Record {
	sc := bufio.NewScanner(io.LimitReader(f, maxRows+1))
	sc.Buffer(make([]byte, 64<<10), maxRowLine)
	var rows []audit.Record
	var total int64
	for n := 1; sc.Scan(); n++ {
		total += int64(len(sc.Bytes())) + 1
		var j rowJSON
		if err := decodeStrict(sc.Bytes(), &j); err != nil {
			v.problem(RowsFile, "line %d is not an audit row: %v", n, err)
			return nil
		}
		r, err := fromRowJSON(j)
		if err != nil {
			v.problem(RowsFile, "line %d: %v", n, err)
			return nil
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil || total > maxRows {
		v.problem(RowsFile, "unreadable: %v", err)
		return nil
	}
	if len(rows) == 0 {
		v.problem(RowsFile, "holds no rows")
		return nil
	}
	if !cpOK {
		return rows
	}
	var chain audit.Verifier
	if err := chain.StartAfter(rows[0].Seq-1, rows[0].PrevHash); err != nil {
		v.problem(RowsFile, "line 1: %v", err)
		return nil
	}
	if err := chain.Anchor(cp.Checkpoint); err != nil {
		v.problem(CheckpointFile, "%v", err)
		return nil
	}
	for _, r := range rows {
		if err := chain.Next(r); err != nil {
			v.problem(RowsFile, "%v", err)
			return nil
		}
	}
	if _, err := chain.End(cp.Seq, cp.Hash); err != nil {
		v.problem(RowsFile, "%v (the checkpoint states row %d)", err, cp.Seq)
		return nil
	}
	return rows
}

// summary checks evidence.json against what the rows say.
func (v *verifier) summary(derived *Summary) {
	data, err := v.readFile(SummaryFile, maxSummary)
	if err != nil {
		v.problem(SummaryFile, "unreadable: %v", err)
		return
	}
	var got Summary
	if err := decodeStrict(data, &got); err != nil {
		v.problem(SummaryFile, "not an evidence summary: %v", err)
		return
	}
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"format", got.Format, derived.Format},
		{"request", got.Request, derived.Request},
		{"approvals", got.Approvals, derived.Approvals},
		{"decisions", got.Decisions, derived.Decisions},
		{"certificates", got.Certificates, derived.Certificates},
		{"sessions", got.Sessions, derived.Sessions},
		{"other", got.Other, derived.Other},
		{"rows", got.Rows, derived.Rows},
		{"segment", got.Segment, derived.Segment},
		{"checkpoint", got.Checkpoint, derived.Checkpoint},
	} {
		g, _ := json.Marshal(part.got)
		w, _ := json.Marshal(part.want)
		if !bytes.Equal(g, w) {
			v.problem(SummaryFile, "its %s section is not what the audit rows say (run lockbox evidence verify --json for what they say)", part.name)
		}
	}
}

// certificates checks each certificate file against its row and its CA.
func (v *verifier) certificates(s *Summary, certs map[string][]byte) {
	for _, c := range s.Certificates {
		if c.File == "" {
			v.notes = append(v.notes, fmt.Sprintf("certificate %s (audit row %d): its row does not hold the certificate, so only the row's facts are shown", c.Serial, c.Seq))
			continue
		}
		data, err := v.readFile(c.File, maxCertificate)
		if err != nil {
			v.problem(c.File, "unreadable: %v", err)
			continue
		}
		if !bytes.Equal(data, certs[c.File]) {
			v.problem(c.File, "is not the certificate audit row %d holds", c.Seq)
			continue
		}
		if why := v.checkCertificate(c, data); why != "" {
			v.problem(c.File, "%s", why)
		}
	}
}

// checkCertificate checks that the certificate states what its row says
// and is signed by its CA; it returns what is wrong, or "".
func (v *verifier) checkCertificate(c Certificate, data []byte) string {
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return fmt.Sprintf("not an SSH certificate: %v", err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok || cert.CertType != ssh.UserCert {
		return "not an SSH user certificate"
	}
	switch {
	case fmt.Sprint(cert.Serial) != c.Serial:
		return fmt.Sprintf("serial %d, its audit row %d says %s", cert.Serial, c.Seq, c.Serial)
	case cert.KeyId != c.KeyID:
		return fmt.Sprintf("key ID %q, its audit row %d says %q", cert.KeyId, c.Seq, c.KeyID)
	case !slices.Equal(cert.ValidPrincipals, c.Principals):
		return fmt.Sprintf("principals %q, its audit row %d says %q", cert.ValidPrincipals, c.Seq, c.Principals)
	case int64(cert.ValidAfter) != c.ValidAfter.Unix() || int64(cert.ValidBefore) != c.ValidBefore.Unix():
		return fmt.Sprintf("validity differs from its audit row %d", c.Seq)
	case ssh.FingerprintSHA256(cert.Key) != c.Fingerprint:
		return fmt.Sprintf("key %s, its audit row %d says %s", ssh.FingerprintSHA256(cert.Key), c.Seq, c.Fingerprint)
	}
	cas, which := v.keys.UserCA, "user CA"
	if c.Kind == "hop" {
		cas, which = v.keys.HopCA, "hop CA"
		if len(cas) == 0 {
			v.notes = append(v.notes, fmt.Sprintf("hop certificate %s: its signature was not checked (no hop CA key given)", c.Serial))
			return ""
		}
	}
	if len(cas) == 0 {
		return "its signature cannot be checked: no user CA key given"
	}
	// CheckCert checks the signature but not who made it: compare the
	// signing key with the CA's, byte for byte.
	if !slices.ContainsFunc(cas, func(k ssh.PublicKey) bool { return bytes.Equal(k.Marshal(), cert.SignatureKey.Marshal()) }) {
		return fmt.Sprintf("signed by %s, not by the %s key given", ssh.FingerprintSHA256(cert.SignatureKey), which)
	}
	checker := ssh.CertChecker{
		SupportedCriticalOptions: []string{"force-command", "source-address"},
		Clock:                    func() time.Time { return time.Unix(int64(cert.ValidAfter), 0) },
	}
	if len(cert.ValidPrincipals) == 0 {
		return "names no principals"
	}
	if err := checker.CheckCert(cert.ValidPrincipals[0], cert); err != nil {
		return fmt.Sprintf("its %s signature does not verify: %v", which, err)
	}
	return ""
}

// recordings checks each recording against its recording.stored row.
func (v *verifier) recordings(s *Summary) {
	bySum := map[string]string{}
	for _, sess := range s.Sessions {
		if sess.Recording != nil {
			bySum[sess.Recording.SHA256] = sess.ID
		}
	}
	for _, sess := range s.Sessions {
		rec := sess.Recording
		if rec == nil {
			continue
		}
		size, sum, err := v.hash(rec.File)
		switch {
		case err != nil:
			v.problem(rec.File, "the recording of session %s is missing: %v", sess.ID, err)
		case sum == rec.SHA256 && size == rec.Size:
		case bySum[sum] != "":
			v.problem(rec.File, "holds the recording of session %s, not of session %s (swapped)", bySum[sum], sess.ID)
		default:
			v.problem(rec.File, "is not the recording of session %s that audit row %d stored: %d bytes with SHA-256 %s, the row says %d bytes with %s",
				sess.ID, rec.Seq, size, sum, rec.Size, rec.SHA256)
		}
	}
}

// expectedFiles checks that the manifest lists exactly the files the
// summary implies.
func (v *verifier) expectedFiles(m *Manifest, s *Summary) {
	want := map[string]bool{SummaryFile: true, RowsFile: true, CheckpointFile: true}
	for _, c := range s.Certificates {
		if c.File != "" {
			want[c.File] = true
		}
	}
	for _, sess := range s.Sessions {
		if sess.Recording != nil {
			want[sess.Recording.File] = true
		}
	}
	for _, f := range m.Files {
		if !want[f.Path] {
			v.problem(f.Path, "is not part of the evidence of %s", m.Request)
		}
		delete(want, f.Path)
	}
	for p := range want {
		v.problem(ManifestFile, "does not list %s", p)
	}
}
