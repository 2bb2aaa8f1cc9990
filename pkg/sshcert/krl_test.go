package sshcert

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

// queryKRL runs `ssh-keygen -Q -f krl cert` and returns its output and
// exit code.
func queryKRL(t *testing.T, keygen string, krl []byte, cert *ssh.Certificate) (string, int) {
	t.Helper()
	dir := t.TempDir()
	krlPath := filepath.Join(dir, "revoked.krl")
	if err := os.WriteFile(krlPath, krl, 0o644); err != nil {
		t.Fatal(err)
	}
	certPath := writeCert(t, dir, "grant", cert)
	out, err := exec.Command(keygen, "-Q", "-f", krlPath, certPath).CombinedOutput()
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(out), certPath, "CERT", 1), code
}

func TestKRLRevokesAsOpenSSHReadsIt(t *testing.T) {
	keygen := requireTool(t, "ssh-keygen")
	caA, caB := newSigner(t, KeyEd25519), newSigner(t, KeyECDSAP256)
	grant := func(ca ssh.Signer, serial uint64) *ssh.Certificate {
		return signedGrant(t, ca, func(s *UserSpec) { s.Serial = serial })
	}
	many := make([]uint64, 10000)
	for i := range many {
		many[i] = rand.Uint64()
	}
	many[5000] = 777
	const revoked, ok = "CERT (grant): REVOKED\n", "CERT (grant): ok\n"
	tests := []struct {
		name     string
		sections []KRLSection
		cert     *ssh.Certificate
		want     string
	}{
		{"listed serial is revoked", []KRLSection{{caA.PublicKey(), []uint64{41, 42, 43}}}, grant(caA, 42), revoked},
		{"unlisted serial is ok", []KRLSection{{caA.PublicKey(), []uint64{41, 43}}}, grant(caA, 42), ok},
		{"serial of another CA is ok", []KRLSection{{caB.PublicKey(), []uint64{42}}}, grant(caA, 42), ok},
		{"second CA section is read", []KRLSection{{caA.PublicKey(), []uint64{1}}, {caB.PublicKey(), []uint64{9, 42}}}, grant(caB, 42), revoked},
		{"first of two CA sections is read", []KRLSection{{caA.PublicKey(), []uint64{42}}, {caB.PublicKey(), []uint64{9}}}, grant(caA, 42), revoked},
		{"two CAs, serial only under the other", []KRLSection{{caA.PublicKey(), []uint64{1}}, {caB.PublicKey(), []uint64{42}}}, grant(caA, 42), ok},
		{"unsorted, duplicated and zero serials", []KRLSection{{caA.PublicKey(), []uint64{0, 99, 42, 42, 0, 7}}}, grant(caA, 42), revoked},
		{"max serial", []KRLSection{{caA.PublicKey(), []uint64{1<<64 - 1}}}, grant(caA, 1<<64-1), revoked},
		{"10,000 serials, listed", []KRLSection{{caA.PublicKey(), many}}, grant(caA, 777), revoked},
		{"10,000 serials, unlisted", []KRLSection{{caA.PublicKey(), many}}, grant(caA, 778), ok},
		{"no sections", nil, grant(caA, 42), ok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			krl := MarshalKRL(3, t0, "lockbox test", tc.sections)
			out, code := queryKRL(t, keygen, krl, tc.cert)
			if out != tc.want || (code == 0) != (tc.want == ok) {
				t.Errorf("ssh-keygen -Q = %q, exit %d; want %q", out, code, tc.want)
			}
		})
	}
}

func TestKRLMatchesSSHKeygenBytes(t *testing.T) {
	keygen := requireTool(t, "ssh-keygen")
	ca := newSigner(t, KeyEd25519)
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pub")
	os.WriteFile(caPath, AuthorizedKey(ca.PublicKey(), ""), 0o644)
	spec := filepath.Join(dir, "spec")
	os.WriteFile(spec, []byte("serial: 7\n"), 0o644)
	krlPath := filepath.Join(dir, "krl")
	if out, err := exec.Command(keygen, "-k", "-z", "5", "-s", caPath, "-f", krlPath, spec).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -k: %v\n%s", err, out)
	}
	want, _ := os.ReadFile(krlPath)
	generated := time.Unix(int64(binary.BigEndian.Uint64(want[20:28])), 0)
	got := MarshalKRL(5, generated, "", []KRLSection{{ca.PublicKey(), []uint64{7}}})
	if !bytes.Equal(want, got) {
		t.Errorf("MarshalKRL differs from ssh-keygen -k:\nwant %x\ngot  %x", want, got)
	}
}

func TestMarshalKRLMergesSortsAndDrops(t *testing.T) {
	caA, caB := newSigner(t, KeyEd25519).PublicKey(), newSigner(t, KeyEd25519).PublicKey()
	got := mergeKRLSections([]KRLSection{
		{caA, []uint64{5, 3, 0}},
		{caB, []uint64{0}},
		{nil, nil},
		{caB, nil},
		{caA, []uint64{3, 1}},
	})
	want := []krlCA{{caA.Marshal(), []uint64{1, 3, 5}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(krlCA{})); diff != "" {
		t.Errorf("merged sections differ (-want +got):\n%s", diff)
	}
	header := MarshalKRL(9, time.Unix(1700000000, 0), "c", nil)
	wantHeader := slices.Concat([]byte("SSHKRL\n\x00"), []byte{0, 0, 0, 1}, be64(9), be64(1700000000), be64(0),
		[]byte{0, 0, 0, 0}, []byte{0, 0, 0, 1, 'c'})
	if diff := cmp.Diff(wantHeader, header); diff != "" {
		t.Errorf("header differs (-want +got):\n%s", diff)
	}
}

func TestMarshalKRLPanicsOnNilCA(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MarshalKRL dropped serials with a nil CA instead of panicking")
		}
	}()
	MarshalKRL(1, t0, "", []KRLSection{{nil, []uint64{1}}})
}

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
