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
}

// NewRecord is the record of cert, signed for g.
func NewRecord(cert *ssh.Certificate, g Grant) Record {
	g.HopCert = "" // public, but long, and not needed to audit
	return Record{Grant: g, Serial: cert.Serial, Fingerprint: ssh.FingerprintSHA256(cert.Key)}
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
