package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// A checkpoint is a signed statement of the chain's head: "at this time the
// log held rows 1 to Seq, and row Seq's hash was Hash". Kept outside the
// database, it anchors the chain: a log that no longer holds that row with
// that hash has been cut back or rewritten, even if whoever did it rewrote
// the head row to match.
//
// What is signed is this text, exactly (four lines, each ending in a line
// feed; the hash is lower-case hex, the time UTC to the second):
//
//	lockbox audit checkpoint v1
//	seq 42
//	hash 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b
//	time 2026-11-23T10:00:00Z
//
// An empty log has seq 0 and the hash of Genesis (all zeros).

// CheckpointNamespace is the sshsig namespace of checkpoint signatures
// (ssh-keygen -Y verify -n), so that no signature made by the audit key for
// anything else can pass for a checkpoint.
const CheckpointNamespace = "lockbox-audit-checkpoint@lockbox"

const (
	checkpointMagic  = "lockbox audit checkpoint v1"
	checkpointLayout = "2006-01-02T15:04:05Z"
	// maxCheckpointText bounds the text parsed: the real one is about 130
	// bytes.
	maxCheckpointText = 512
)

// Reasons a checkpoint is refused.
var (
	ErrCheckpointFormat    = errors.New("not a Lockbox audit checkpoint")
	ErrCheckpointSignature = errors.New("checkpoint not signed by the audit key")
	// ErrCheckpointMismatch is wrapped by the ChainError of a log that no
	// longer holds a signed checkpoint's row as it was signed.
	ErrCheckpointMismatch = errors.New("the audit log no longer holds a signed checkpoint")
)

// Checkpoint is the head of the chain at a time.
type Checkpoint struct {
	Seq  int64
	Hash []byte    // HashSize bytes; Genesis when Seq is 0
	Time time.Time // kept to the second, UTC
}

// NewCheckpoint states the head (seq, hash) at t.
func NewCheckpoint(seq int64, hash []byte, t time.Time) (Checkpoint, error) {
	if hash == nil && seq == 0 {
		hash = Genesis
	}
	c := Checkpoint{Seq: seq, Hash: append([]byte(nil), hash...), Time: t.UTC().Truncate(time.Second)}
	if err := c.check(); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}

func (c Checkpoint) check() error {
	switch {
	case c.Seq < 0:
		return fmt.Errorf("%w: negative row number %d", ErrCheckpointFormat, c.Seq)
	case len(c.Hash) != HashSize:
		return fmt.Errorf("%w: the hash has %d bytes, want %d", ErrCheckpointFormat, len(c.Hash), HashSize)
	case c.Seq == 0 && !bytes.Equal(c.Hash, Genesis):
		return fmt.Errorf("%w: an empty log's hash is all zeros", ErrCheckpointFormat)
	case c.Time.Year() < 1 || c.Time.Year() > 9999:
		return fmt.Errorf("%w: time %v out of range", ErrCheckpointFormat, c.Time)
	}
	return nil
}

// Text returns the bytes that are signed.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\nseq %d\nhash %x\ntime %s\n", checkpointMagic, c.Seq, c.Hash, c.Time.UTC().Format(checkpointLayout))
}

// ParseCheckpoint reads a checkpoint's text. Only the exact form Text
// writes is accepted, so one checkpoint has one encoding.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) > maxCheckpointText {
		return Checkpoint{}, fmt.Errorf("%w: %d bytes, longer than any checkpoint", ErrCheckpointFormat, len(text))
	}
	lines := bytes.SplitAfter(text, []byte("\n"))
	if len(lines) != 5 || len(lines[4]) != 0 || string(lines[0]) != checkpointMagic+"\n" {
		return Checkpoint{}, fmt.Errorf("%w: want the four lines of %q", ErrCheckpointFormat, checkpointMagic)
	}
	field := func(line []byte, name string) (string, error) {
		v, ok := bytes.CutPrefix(bytes.TrimSuffix(line, []byte("\n")), []byte(name+" "))
		if !ok {
			return "", fmt.Errorf("%w: want a line %q", ErrCheckpointFormat, name+" ...")
		}
		return string(v), nil
	}
	var c Checkpoint
	seq, err := field(lines[1], "seq")
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Seq, err = strconv.ParseInt(seq, 10, 64); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: seq %q is not a row number", ErrCheckpointFormat, seq)
	}
	hash, err := field(lines[2], "hash")
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Hash, err = hex.DecodeString(hash); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: hash %q is not hex", ErrCheckpointFormat, hash)
	}
	when, err := field(lines[3], "time")
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Time, err = time.Parse(checkpointLayout, when); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: time %q is not YYYY-MM-DDTHH:MM:SSZ", ErrCheckpointFormat, when)
	}
	if err := c.check(); err != nil {
		return Checkpoint{}, err
	}
	if !bytes.Equal(c.Text(), text) {
		return Checkpoint{}, fmt.Errorf("%w: not in its one canonical form (leading zeros, upper-case hex?)", ErrCheckpointFormat)
	}
	return c, nil
}

// String names the checkpoint for people.
func (c Checkpoint) String() string {
	return fmt.Sprintf("row %d at %s", c.Seq, c.Time.UTC().Format(checkpointLayout))
}
