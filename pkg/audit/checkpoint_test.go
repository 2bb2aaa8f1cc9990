package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

var cpTime = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newKey(t testing.TB) ssh.Signer {
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

func checkpointOf(t testing.TB, recs []Record) Checkpoint {
	t.Helper()
	seq, h := head(recs)
	c, err := NewCheckpoint(seq, h, cpTime)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The signed text is small, fixed and documented (docs/audit.md).
func TestCheckpointTextIsTheDocumentedFormat(t *testing.T) {
	c, err := NewCheckpoint(42, bytes.Repeat([]byte{0xab}, HashSize), cpTime.Add(999*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	want := "lockbox audit checkpoint v1\nseq 42\nhash " + strings.Repeat("ab", HashSize) + "\ntime 2026-11-23T10:00:00Z\n"
	if got := string(c.Text()); got != want {
		t.Fatalf("text:\n%s\nwant:\n%s", got, want)
	}
	back, err := ParseCheckpoint(c.Text())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	empty, err := NewCheckpoint(0, nil, cpTime)
	if err != nil || !bytes.Equal(empty.Hash, Genesis) {
		t.Fatalf("an empty log's checkpoint: %v %x", err, empty.Hash)
	}
}

func TestParseCheckpointRefusesAnythingButTheCanonicalForm(t *testing.T) {
	good := "lockbox audit checkpoint v1\nseq 42\nhash " + strings.Repeat("ab", HashSize) + "\ntime 2026-11-23T10:00:00Z\n"
	if _, err := ParseCheckpoint([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"empty":               "",
		"no final newline":    strings.TrimSuffix(good, "\n"),
		"extra line":          good + "note x\n",
		"CRLF":                strings.ReplaceAll(good, "\n", "\r\n"),
		"other version":       strings.Replace(good, "v1", "v2", 1),
		"leading zero":        strings.Replace(good, "seq 42", "seq 042", 1),
		"plus sign":           strings.Replace(good, "seq 42", "seq +42", 1),
		"negative":            strings.Replace(good, "seq 42", "seq -42", 1),
		"upper-case hex":      strings.Replace(good, "abab", "ABAB", 1),
		"short hash":          strings.Replace(good, "abab", "ab", 1),
		"not hex":             strings.Replace(good, "abab", "zzab", 1),
		"fractional time":     strings.Replace(good, "10:00:00Z", "10:00:00.5Z", 1),
		"offset time":         strings.Replace(good, "10:00:00Z", "10:00:00+01:00", 1),
		"lines swapped":       strings.Replace(strings.Replace(good, "seq 42\n", "", 1), "\ntime", "\nseq 42\ntime", 1),
		"double space":        strings.Replace(good, "seq 42", "seq  42", 1),
		"seq 0 with a hash":   strings.Replace(good, "seq 42", "seq 0", 1),
		"huge":                good + strings.Repeat("x", 1000),
		"armor instead":       "-----BEGIN SSH SIGNATURE-----\n",
		"seq beyond int64":    strings.Replace(good, "seq 42", "seq 9223372036854775808", 1),
		"key with no value":   strings.Replace(good, "seq 42", "seq", 1),
		"other field name":    strings.Replace(good, "seq 42", "row 42", 1),
		"trailing space":      strings.Replace(good, "seq 42", "seq 42 ", 1),
		"text before it":      "x\n" + good,
		"two checkpoints":     good + good,
		"null byte in time":   strings.Replace(good, "10:00:00Z", "10:00:00Z\x00", 1),
		"year beyond 9999":    strings.Replace(good, "2026-", "10000-", 1),
		"hash of wrong size":  strings.Replace(good, strings.Repeat("ab", HashSize), strings.Repeat("ab", HashSize+1), 1),
		"empty line at start": "\n" + good,
	} {
		if _, err := ParseCheckpoint([]byte(text)); !errors.Is(err, ErrCheckpointFormat) {
			t.Errorf("%s: got %v, want ErrCheckpointFormat", name, err)
		}
	}
}

func TestSignedCheckpointVerifiesOnlyWithTheAuditKey(t *testing.T) {
	key, other := newKey(t), newKey(t)
	c := checkpointOf(t, chain(t, 3))
	sc, err := SignCheckpoint(c, key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sc.Signature, []byte("-----BEGIN SSH SIGNATURE-----\n")) || !bytes.HasSuffix(sc.Signature, []byte("-----END SSH SIGNATURE-----\n")) {
		t.Fatalf("not an armored SSH signature:\n%s", sc.Signature)
	}
	if err := sc.Verify(key.PublicKey()); err != nil {
		t.Fatalf("the audit key's own signature: %v", err)
	}
	if err := sc.Verify(other.PublicKey()); !errors.Is(err, ErrCheckpointSignature) {
		t.Fatalf("verified with another key: %v", err)
	}
	changed := sc
	changed.Text = bytes.Replace(sc.Text, []byte("seq 3"), []byte("seq 2"), 1)
	changed.Checkpoint, _ = ParseCheckpoint(changed.Text)
	if err := changed.Verify(key.PublicKey()); !errors.Is(err, ErrCheckpointSignature) {
		t.Fatalf("a changed text verified: %v", err)
	}
	mismatch := sc
	mismatch.Seq = 7
	if err := mismatch.Verify(key.PublicKey()); !errors.Is(err, ErrCheckpointSignature) {
		t.Fatalf("a checkpoint that is not its text verified: %v", err)
	}
	// The audit key's signature over the same bytes for another purpose
	// (another namespace) is no checkpoint.
	sig, err := sshsig.Sign(bytes.NewReader(sc.Text), key, sshsig.HashSHA512, "file")
	if err != nil {
		t.Fatal(err)
	}
	foreign := sc
	foreign.Signature = sshsig.Armor(sig)
	if err := foreign.Verify(key.PublicKey()); !errors.Is(err, ErrCheckpointSignature) {
		t.Fatalf("a signature in namespace file verified: %v", err)
	}
	for name, bad := range map[string][]byte{
		"empty":        nil,
		"garbage":      []byte("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"),
		"other type":   bytes.Replace(sc.Signature, []byte("SSH SIGNATURE"), []byte("PGP SIGNATURE"), 2),
		"trailing":     append(append([]byte(nil), sc.Signature...), "more\n"...),
		"text ahead":   append([]byte("x\n"), sc.Signature...),
		"pem headers":  bytes.Replace(sc.Signature, []byte("-----\n"), []byte("-----\nProc-Type: 4,ENCRYPTED\n\n"), 1),
		"too large":    bytes.Repeat([]byte("A"), 9<<10),
		"cut in half":  sc.Signature[:len(sc.Signature)/2],
		"only armor":   []byte("-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n"),
		"nul in armor": bytes.Replace(sc.Signature, []byte("\n"), []byte("\x00\n"), 2),
	} {
		s := sc
		s.Signature = bad
		if err := s.Verify(key.PublicKey()); !errors.Is(err, ErrCheckpointSignature) {
			t.Errorf("%s: got %v, want ErrCheckpointSignature", name, err)
		}
	}
}

func TestBundlesOfCheckpointsParseInOrder(t *testing.T) {
	key := newKey(t)
	var file []byte
	var want []Checkpoint
	for _, n := range []int{0, 2, 5} {
		c := checkpointOf(t, chain(t, n))
		sc, err := SignCheckpoint(c, key, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		file = append(append(file, sc.Bundle()...), '\n')
		want = append(want, c)
	}
	got, err := ParseSignedCheckpoints(file)
	if err != nil {
		t.Fatal(err)
	}
	var cps []Checkpoint
	for _, sc := range got {
		if err := sc.Verify(key.PublicKey()); err != nil {
			t.Fatal(err)
		}
		cps = append(cps, sc.Checkpoint)
	}
	if diff := cmp.Diff(want, cps); diff != "" {
		t.Fatalf("checkpoints (-want +got):\n%s", diff)
	}
	for name, bad := range map[string][]byte{
		"empty":                  nil,
		"blank":                  []byte("\n\n"),
		"text without signature": want[0].Text(),
		"cut signature":          file[:len(file)-40],
		"junk between":           append(append(append([]byte(nil), got[0].Bundle()...), "junk\n"...), got[1].Bundle()...),
	} {
		if _, err := ParseSignedCheckpoints(bad); !errors.Is(err, ErrCheckpointFormat) && !errors.Is(err, ErrCheckpointSignature) {
			t.Errorf("%s: got %v, want a format error", name, err)
		}
	}
}

// The attack the chain alone misses: rows cut from the end and the head
// row moved back to the new last row. A checkpoint signed before it
// catches it.
func TestCheckpointCatchesATruncatedLogWithItsHeadRewound(t *testing.T) {
	orig := chain(t, 5)
	cp := checkpointOf(t, orig)
	cut := orig[:3]
	seq, h := head(cut)
	if err := Verify(cut, seq, h); err != nil {
		t.Fatalf("without a checkpoint this is invisible, yet: %v", err)
	}
	var v Verifier
	if err := v.Anchor(cp); err != nil {
		t.Fatal(err)
	}
	for _, r := range cut {
		if err := v.Next(r); err != nil {
			t.Fatal(err)
		}
	}
	_, err := v.End(seq, h)
	var ce *ChainError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCheckpointMismatch) || !errors.Is(err, ErrBroken) || ce.Seq != 4 {
		t.Fatalf("got %v, want a checkpoint mismatch at row 4", err)
	}
	if !strings.Contains(err.Error(), "rows were deleted from the end and the head moved back") {
		t.Fatalf("message %q", err)
	}
}

// Whoever rewrites a row at or before the checkpoint and reseals every row
// after it has a consistent chain, but not the signed hash.
func TestCheckpointCatchesARewrittenAndResealedChain(t *testing.T) {
	orig := chain(t, 6)
	cp := checkpointOf(t, orig[:4]) // row 4
	for _, from := range []int{1, 2, 4} {
		forged := append([]Record(nil), orig[:from-1]...)
		seq, h := head(forged)
		for i := from - 1; i < len(orig); i++ {
			e := Event{Time: orig[i].Time, Actor: orig[i].Actor, Action: orig[i].Action, Subject: orig[i].Subject}
			if i == from-1 {
				e.Actor = "user:mallory"
			}
			r, err := Seal(seq, h, e)
			if err != nil {
				t.Fatal(err)
			}
			forged = append(forged, r)
			seq, h = r.Seq, r.Hash
		}
		if err := Verify(forged, seq, h); err != nil {
			t.Fatalf("the forged chain is consistent, yet: %v", err)
		}
		var v Verifier
		if err := v.Anchor(cp); err != nil {
			t.Fatal(err)
		}
		var err error
		for _, r := range forged {
			if err = v.Next(r); err != nil {
				break
			}
		}
		var ce *ChainError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCheckpointMismatch) || ce.Seq != 4 {
			t.Fatalf("row %d rewritten: got %v, want a checkpoint mismatch at row 4", from, err)
		}
	}
}

// What a checkpoint cannot know: rows after it. The chain and the next
// checkpoint cover those.
func TestCheckpointAcceptsTheLogGrowingAfterIt(t *testing.T) {
	orig := chain(t, 6)
	var v Verifier
	for _, cp := range []Checkpoint{checkpointOf(t, orig[:2]), checkpointOf(t, orig[:4]), checkpointOf(t, nil)} {
		if err := v.Anchor(cp); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range orig {
		if err := v.Next(r); err != nil {
			t.Fatal(err)
		}
	}
	seq, h := head(orig)
	if n, err := v.End(seq, h); err != nil || n != 6 {
		t.Fatalf("%d rows: %v", n, err)
	}
}

func TestAnchorRefusesTwoCheckpointsThatDisagree(t *testing.T) {
	a := checkpointOf(t, chain(t, 3))
	b := a
	b.Hash = bytes.Repeat([]byte{1}, HashSize)
	var v Verifier
	if err := v.Anchor(a); err != nil {
		t.Fatal(err)
	}
	if err := v.Anchor(b); !errors.Is(err, ErrCheckpointFormat) {
		t.Fatalf("got %v", err)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("lockbox audit checkpoint v1\nseq 42\nhash " + strings.Repeat("ab", HashSize) + "\ntime 2026-11-23T10:00:00Z\n"))
	f.Add([]byte("lockbox audit checkpoint v1\nseq 0\nhash " + strings.Repeat("00", HashSize) + "\ntime 0001-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			if !errors.Is(err, ErrCheckpointFormat) {
				t.Fatalf("error %v is not ErrCheckpointFormat", err)
			}
			return
		}
		if !bytes.Equal(c.Text(), text) {
			t.Fatalf("parsed %q, which writes as %q", text, c.Text())
		}
	})
}

func FuzzParseSignedCheckpoints(f *testing.F) {
	key := newKey(f)
	sc, err := SignCheckpoint(Checkpoint{Seq: 0, Hash: Genesis, Time: cpTime}, key, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sc.Bundle())
	f.Add(append(append(sc.Bundle(), '\n'), sc.Bundle()...))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseSignedCheckpoints(data)
		if err != nil {
			return
		}
		for _, c := range got {
			if !bytes.Equal(c.Text, c.Checkpoint.Text()) {
				t.Fatalf("bundle text %q is not its checkpoint's", c.Text)
			}
			c.Verify(key.PublicKey()) //nolint:errcheck // must not panic
		}
	})
}
