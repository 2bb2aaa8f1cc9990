package breakglass

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// RecordFile is the record of issuances, in the CA's data directory
// beside the keys: one JSON Record a line, only ever appended to.
const RecordFile = "break-glass.log"

// Record is one issuance in RecordFile.
type Record struct {
	Grant
	Serial      uint64 `json:"serial"`
	Fingerprint string `json:"fingerprint"` // of the person's key
	// Operator is the account on the CA host that ran ca break-glass.
	Operator string `json:"operator,omitempty"`
}

// NewRecord is the record of cert, signed for g by operator.
func NewRecord(cert *ssh.Certificate, g Grant, operator string) Record {
	g.HopCert = "" // public, but long, and not needed to audit
	return Record{Grant: g, Serial: cert.Serial, Fingerprint: ssh.FingerprintSHA256(cert.Key), Operator: operator}
}

// AuditedFile holds how many lines of RecordFile the CA has audited.
const AuditedFile = "break-glass.audited"

// Audited reads how many records of dir/RecordFile were audited; no file
// is none.
func Audited(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, AuditedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: not a count", AuditedFile)
	}
	return n, nil
}

// SetAudited records that the first n records are audited (write and
// rename: a crash leaves the old count, and those records are audited
// again: at least once, never lost).
func SetAudited(dir string, n int) error {
	tmp := filepath.Join(dir, AuditedFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, AuditedFile))
}

// AppendRecord appends r to dir/RecordFile (mode 0600) and syncs it. ca
// break-glass appends before it writes the certificate out, so that no
// certificate is handed over unrecorded.
func AppendRecord(dir string, r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, RecordFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening the break-glass record: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("writing the break-glass record: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing the break-glass record: %w", err)
	}
	return f.Close()
}

// ReadRecords reads dir/RecordFile; no file is no records. A line that
// does not read (a torn last write) is returned as an error with its line
// number, after the records before it.
func ReadRecords(dir string) ([]Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the break-glass record: %w", err)
	}
	return parseRecords(data)
}

func parseRecords(data []byte) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r Record
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || r.Serial == 0 || r.User == "" || r.Issued.IsZero() {
			return out, fmt.Errorf("%s line %d: not a break-glass record", RecordFile, n)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading the break-glass record: %w", err)
	}
	return out, nil
}
