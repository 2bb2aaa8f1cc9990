package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(fill byte) []byte { return bytes.Repeat([]byte{fill}, KeySize) }

func newBox(t *testing.T, fill byte) *Box {
	t.Helper()
	b, err := New(testKey(fill))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var alice = []byte("user:alice")

func TestRoundTrip(t *testing.T) {
	b := newBox(t, 1)
	for _, plaintext := range [][]byte{nil, []byte("x"), []byte("JBSWY3DPEHPK3PXPJBSW"), bytes.Repeat([]byte{0}, 4096)} {
		sealed := b.Seal(plaintext, alice)
		if len(sealed) != len(plaintext)+overhead || sealed[0] != version {
			t.Errorf("sealed %d bytes as %d bytes with version %d", len(plaintext), len(sealed), sealed[0])
		}
		got, err := b.Open(sealed, alice)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Errorf("Open(Seal(%d bytes)) = %d bytes, %v", len(plaintext), len(got), err)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	b := newBox(t, 1)
	x, y := b.Seal([]byte("same"), alice), b.Seal([]byte("same"), alice)
	if bytes.Equal(x[1:1+nonceSize], y[1:1+nonceSize]) || bytes.Equal(x, y) {
		t.Error("two Seals of the same plaintext share a nonce")
	}
}

func TestOpenRefusesTampering(t *testing.T) {
	b := newBox(t, 1)
	sealed := b.Seal([]byte("totp secret bytes"), alice)
	regions := []struct {
		name       string
		start, end int
	}{
		{"version byte", 0, 1},
		{"nonce", 1, 1 + nonceSize},
		{"ciphertext", 1 + nonceSize, len(sealed) - tagSize},
		{"tag", len(sealed) - tagSize, len(sealed)},
	}
	for _, r := range regions {
		t.Run("flipped bit in "+r.name, func(t *testing.T) {
			for i := r.start; i < r.end; i++ {
				for _, mask := range []byte{0x01, 0x80} {
					bad := bytes.Clone(sealed)
					bad[i] ^= mask
					if _, err := b.Open(bad, alice); !errors.Is(err, ErrDecrypt) {
						t.Fatalf("byte %d ^ %#x: Open = %v, want ErrDecrypt", i, mask, err)
					}
				}
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	b := newBox(t, 1)
	sealed := b.Seal([]byte("totp secret bytes"), alice)
	tests := []struct {
		name   string
		box    *Box
		sealed []byte
		ad     []byte
	}{
		{"other user's additional data", b, sealed, []byte("user:bob")},
		{"missing additional data", b, sealed, nil},
		{"wrong key", newBox(t, 2), sealed, alice},
		{"unknown version", b, append([]byte{2}, sealed[1:]...), alice},
		{"empty input", b, nil, alice},
		{"version byte only", b, sealed[:1], alice},
		{"shorter than nonce and tag", b, sealed[:overhead-1], alice},
		{"truncated by one byte", b, sealed[:len(sealed)-1], alice},
		{"extended by one byte", b, append(bytes.Clone(sealed), 0), alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.box.Open(tt.sealed, tt.ad); !errors.Is(err, ErrDecrypt) || got != nil {
				t.Errorf("Open = %q, %v; want nil, ErrDecrypt", got, err)
			}
		})
	}
	t.Run("every truncation", func(t *testing.T) {
		for n := range len(sealed) {
			if _, err := b.Open(sealed[:n], alice); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Open(first %d bytes) = %v, want ErrDecrypt", n, err)
			}
		}
	})
}

func TestNewRefusesWrongKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := New(make([]byte, n)); !errors.Is(err, ErrKeySize) {
			t.Errorf("New(%d-byte key) = %v, want ErrKeySize", n, err)
		}
	}
}
