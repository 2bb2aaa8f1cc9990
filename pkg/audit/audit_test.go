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
