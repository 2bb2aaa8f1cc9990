package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// HashSize is the size of a record hash.
const HashSize = sha256.Size

// Event is something that happened, as the workflow reports it.
type Event struct {
	Time    time.Time
	Actor   string // "user:alice", "bastion:bastion-1", "system"
	Action  string // "request.submitted", "cert.issued", ...
	Subject string // what it happened to: a request ID, a session ID, a user
	// Detail holds the facts of the event; it is stored as JSON, so keep
	// values to strings, numbers, booleans and lists of them.
	Detail map[string]any
}

// Record is an event as stored: numbered and chained.
type Record struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Detail   json.RawMessage `json:"detail"`
	PrevHash []byte          `json:"prev_hash"`
	Hash     []byte          `json:"hash"`
}

// Genesis is the previous hash of the first record.
var Genesis = make([]byte, HashSize)

// Seal numbers e as the record after (prevSeq, prevHash) and computes its
// hash. The time is kept to the microsecond, which both store engines hold
// exactly.
func Seal(prevSeq int64, prevHash []byte, e Event) (Record, error) {
	detail, err := EncodeDetail(e.Detail)
	if err != nil {
		return Record{}, err
	}
	return SealEncoded(prevSeq, prevHash, e, detail), nil
}

// EncodeDetail is the JSON of an event's detail as Seal stores it.
func EncodeDetail(d map[string]any) ([]byte, error) {
	if len(d) == 0 {
		return []byte("{}"), nil
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding audit detail: %w", err)
	}
	return detail, nil
}

// SealEncoded is Seal with e's detail encoded already (EncodeDetail), for
// a caller that encodes it before it holds the head of the chain; e.Detail
// is not read.
func SealEncoded(prevSeq int64, prevHash []byte, e Event, detail []byte) Record {
	r := Record{
		Seq:      prevSeq + 1,
		Time:     e.Time.UTC().Truncate(time.Microsecond),
		Actor:    e.Actor,
		Action:   e.Action,
		Subject:  e.Subject,
		Detail:   detail,
		PrevHash: append([]byte(nil), prevHash...),
	}
	r.Hash = r.computeHash()
	return r
}

// computeHash hashes every field but Hash, each length-prefixed, so no two
// different records share an encoding.
func (r Record) computeHash() []byte {
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	field([]byte("lockbox-audit-v1"))
	field(binary.BigEndian.AppendUint64(nil, uint64(r.Seq)))
	field(binary.BigEndian.AppendUint64(nil, uint64(r.Time.UnixMicro())))
	field([]byte(r.Actor))
	field([]byte(r.Action))
	field([]byte(r.Subject))
	field(r.Detail)
	field(r.PrevHash)
	return h.Sum(nil)
}

// ErrBroken is wrapped by every ChainError.
var ErrBroken = errors.New("audit chain broken")

// ChainError names the first row at which the chain breaks.
type ChainError struct {
	Seq     int64
	Problem string
	// Err, if set, says more of the kind of break (ErrCheckpointMismatch).
	Err error
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit chain broken at row %d: %s", e.Seq, e.Problem)
}

func (e *ChainError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrBroken, e.Err}
	}
	return []error{ErrBroken}
}
