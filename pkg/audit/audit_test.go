package audit

import (
	"errors"
	"testing"
	"time"
)

func chain(t *testing.T, n int) []Record {
	t.Helper()
	var recs []Record
	seq, hash := int64(0), Genesis
	base := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		r, err := Seal(seq, hash, Event{
			Time: base.Add(time.Duration(i) * time.Second), Actor: "user:alice",
			Action: "request.submitted", Subject: "req-1",
			Detail: map[string]any{"role": "reader", "i": i},
		})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		seq, hash = r.Seq, r.Hash
	}
	return recs
}

func head(recs []Record) (int64, []byte) {
	if len(recs) == 0 {
		return 0, Genesis
	}
	last := recs[len(recs)-1]
	return last.Seq, last.Hash
}

func TestIntactChainVerifies(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		recs := chain(t, n)
		seq, h := head(recs)
		if err := Verify(recs, seq, h); err != nil {
			t.Errorf("%d records: %v", n, err)
		}
	}
}

func TestSealKeepsMicroseconds(t *testing.T) {
	r := chain(t, 1)[0]
	if r.Time.Nanosecond()%1000 != 0 {
		t.Fatalf("time %v not truncated to microseconds", r.Time)
	}
}

func TestVerifyNamesTheBrokenRow(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func([]Record) []Record
		headFix bool // recompute the head from the tampered slice
		wantSeq int64
	}{
		{"changed actor", func(r []Record) []Record { r[2].Actor = "user:mallory"; return r }, false, 3},
		{"changed detail", func(r []Record) []Record { r[1].Detail = []byte(`{"role":"admin"}`); return r }, false, 2},
		{"changed time", func(r []Record) []Record { r[3].Time = r[3].Time.Add(time.Second); return r }, false, 4},
		{"deleted middle row", func(r []Record) []Record { return append(r[:2], r[3:]...) }, false, 3},
		{"deleted last row", func(r []Record) []Record { return r[:4] }, false, 5},
		{"deleted last row and head rewritten", func(r []Record) []Record { return r[:4] }, true, 0},
		{"swapped rows", func(r []Record) []Record {
			r[1], r[2] = r[2], r[1]
			r[1].Seq, r[2].Seq = 2, 3
			return r
		}, false, 2},
		{"row replaced by a resealed one", func(r []Record) []Record {
			fake, _ := Seal(r[1].Seq, r[1].Hash, Event{Actor: "user:mallory", Action: "x"})
			r[2] = fake
			return r
		}, false, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := chain(t, 5)
			hs, hh := head(orig)
			recs := tc.tamper(append([]Record(nil), orig...))
			if tc.headFix {
				hs, hh = head(recs)
			}
			err := Verify(recs, hs, hh)
			if tc.wantSeq == 0 {
				if err != nil {
					t.Fatalf("a truncation with a rewritten head is only caught by an outside anchor; got %v", err)
				}
				return
			}
			var ce *ChainError
			if !errors.As(err, &ce) || !errors.Is(err, ErrBroken) {
				t.Fatalf("got %v, want a ChainError", err)
			}
			if ce.Seq != tc.wantSeq {
				t.Fatalf("broken at %d (%s), want %d", ce.Seq, ce.Problem, tc.wantSeq)
			}
		})
	}
}

// A segment of the chain verifies from its first row, and a checkpoint at
// its end fixes every row of it, the first included.
func TestVerifierChecksASegmentAgainstACheckpoint(t *testing.T) {
	recs := chain(t, 6)
	last := recs[5]
	cp, err := NewCheckpoint(last.Seq, last.Hash, last.Time)
	if err != nil {
		t.Fatal(err)
	}
	walk := func(seg []Record) error {
		var v Verifier
		if err := v.StartAfter(seg[0].Seq-1, seg[0].PrevHash); err != nil {
			return err
		}
		if err := v.Anchor(cp); err != nil {
			return err
		}
		for _, r := range seg {
			if err := v.Next(r); err != nil {
				return err
			}
		}
		_, err := v.End(cp.Seq, cp.Hash)
		return err
	}
	if err := walk(recs[2:]); err != nil {
		t.Fatalf("an intact segment: %v", err)
	}
	changed := append([]Record(nil), recs[2:]...)
	changed[0].Actor = "user:mallory"
	changed[0].Hash = changed[0].computeHash() // resealed, but row 4 no longer follows it
	var ce *ChainError
	if err := walk(changed); !errors.As(err, &ce) || ce.Seq != 4 {
		t.Fatalf("a resealed first row: %v, want a break at row 4", err)
	}
	if err := walk(recs[2:5]); !errors.As(err, &ce) || ce.Seq != 6 {
		t.Fatalf("a segment short of the checkpoint: %v", err)
	}
	var v Verifier
	if err := v.StartAfter(-1, Genesis); err == nil {
		t.Fatal("a negative start accepted")
	}
}
