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
		return &ChainError{r.Seq, fmt.Sprintf("out of order: it comes after row %d", v.seq)}
	case r.Seq > v.seq+1:
		return &ChainError{v.seq + 1, fmt.Sprintf("missing: rows %d to %d were deleted", v.seq+1, r.Seq-1)}
	case !bytes.Equal(r.Hash, r.computeHash()):
		return &ChainError{r.Seq, "its contents do not match its hash (changed)"}
	case !bytes.Equal(r.PrevHash, prev):
		return &ChainError{r.Seq, "it does not follow the row before it (changed, reordered or replaced)"}
	}
	v.seq, v.hash, v.n = r.Seq, r.Hash, v.n+1
	return nil
}

// End checks that the chain ends at the head the store recorded, which
// catches rows deleted from the end. It returns the number of rows checked.
func (v *Verifier) End(headSeq int64, headHash []byte) (int64, error) {
	if headSeq != v.seq {
		if headSeq > v.seq {
			return v.n, &ChainError{v.seq + 1, fmt.Sprintf("missing: rows %d to %d were deleted from the end", v.seq+1, headSeq)}
		}
		return v.n, &ChainError{headSeq + 1, fmt.Sprintf("rows after the recorded head %d were added outside Lockbox", headSeq)}
	}
	want := v.hash
	if want == nil {
		want = Genesis
	}
	if !bytes.Equal(headHash, want) {
		return v.n, &ChainError{v.seq, "the last row does not match the recorded head (changed)"}
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
