package audit

import (
	"bytes"
	"fmt"
)

// Verifier checks records one at a time, in the order of their sequence
// numbers, so that a chain of any length is verified in constant memory.
// The zero value expects the chain to start at row 1.
type Verifier struct {
	seq  int64
	hash []byte
	n    int64
	// anchors are the checkpoints the chain must still hold, by row.
	anchors   map[int64]Checkpoint
	maxAnchor Checkpoint
}

// StartAfter makes the walk begin at row seq+1, taking hash as the hash of
// row seq, for a segment of the chain rather than the whole of it. The
// segment's first row is then bound to the chain only by the rows after
// it: anchor the walk to a checkpoint at or after the segment's end, which
// fixes every row of the segment. Call it before the first Next.
func (v *Verifier) StartAfter(seq int64, hash []byte) error {
	if seq < 0 || len(hash) != HashSize {
		return fmt.Errorf("audit: a segment starts after a row number and its %d-byte hash", HashSize)
	}
	v.seq, v.hash = seq, append([]byte(nil), hash...)
	return nil
}

// Anchor makes the walk check the chain against a checkpoint (whose
// signature the caller has verified): row c.Seq must still have c.Hash,
// which it cannot if it or any row before it changed, and the chain must
// still reach that row. Call it before the first Next.
func (v *Verifier) Anchor(c Checkpoint) error {
	if err := c.check(); err != nil {
		return err
	}
	if prev, ok := v.anchors[c.Seq]; ok && !bytes.Equal(prev.Hash, c.Hash) {
		return fmt.Errorf("%w: the checkpoints of %s and %s name different hashes for one row", ErrCheckpointFormat, prev, c)
	}
	if v.anchors == nil {
		v.anchors = map[int64]Checkpoint{}
	}
	v.anchors[c.Seq] = c
	if c.Seq >= v.maxAnchor.Seq {
		v.maxAnchor = c
	}
	return nil
}

// Next checks r against the records before it and returns a *ChainError at
// the first break.
func (v *Verifier) Next(r Record) error {
	prev := v.hash
	if prev == nil {
		prev = Genesis
	}
	switch {
	case r.Seq <= v.seq:
		return &ChainError{Seq: r.Seq, Problem: fmt.Sprintf("out of order: it comes after row %d", v.seq)}
	case r.Seq > v.seq+1:
		return &ChainError{Seq: v.seq + 1, Problem: fmt.Sprintf("missing: rows %d to %d were deleted", v.seq+1, r.Seq-1)}
	case !bytes.Equal(r.Hash, r.computeHash()):
		return &ChainError{Seq: r.Seq, Problem: "its contents do not match its hash (changed)"}
	case !bytes.Equal(r.PrevHash, prev):
		return &ChainError{Seq: r.Seq, Problem: "it does not follow the row before it (changed, reordered or replaced)"}
	}
	if c, ok := v.anchors[r.Seq]; ok && !bytes.Equal(r.Hash, c.Hash) {
		return &ChainError{Seq: r.Seq, Err: ErrCheckpointMismatch, Problem: fmt.Sprintf(
			"its hash is not the one the checkpoint of %s signed: this row or one before it was rewritten", c)}
	}
	v.seq, v.hash, v.n = r.Seq, r.Hash, v.n+1
	return nil
}

// End checks that the chain ends at the head the store recorded, which
// catches rows deleted from the end, and that it reached every anchor,
// which catches rows deleted from the end with the head moved back to
// match. It returns the number of rows checked.
func (v *Verifier) End(headSeq int64, headHash []byte) (int64, error) {
	if headSeq != v.seq {
		if headSeq > v.seq {
			return v.n, &ChainError{Seq: v.seq + 1, Problem: fmt.Sprintf("missing: rows %d to %d were deleted from the end", v.seq+1, headSeq)}
		}
		return v.n, &ChainError{Seq: headSeq + 1, Problem: fmt.Sprintf("rows after the recorded head %d were added outside Lockbox", headSeq)}
	}
	want := v.hash
	if want == nil {
		want = Genesis
	}
	if !bytes.Equal(headHash, want) {
		return v.n, &ChainError{Seq: v.seq, Problem: "the last row does not match the recorded head (changed)"}
	}
	if c := v.maxAnchor; c.Seq > v.seq {
		return v.n, &ChainError{Seq: v.seq + 1, Err: ErrCheckpointMismatch, Problem: fmt.Sprintf(
			"missing: the log ends at row %d, but the checkpoint of %s covers rows to %d: rows were deleted from the end and the head moved back", v.seq, c, c.Seq)}
	}
	return v.n, nil
}

// Verify checks a whole chain held in memory against its head.
func Verify(records []Record, headSeq int64, headHash []byte) error {
	var v Verifier
	for _, r := range records {
		if err := v.Next(r); err != nil {
			return err
		}
	}
	_, err := v.End(headSeq, headHash)
	return err
}
