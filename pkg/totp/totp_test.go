package totp

import (
	"bytes"
	"errors"
	"net/url"
	"testing"
	"time"
)

var rfcSecret = []byte("12345678901234567890") // RFC 6238 appendix B, SHA-1

func TestCodeMatchesRFC6238Vectors(t *testing.T) {
	// The RFC's codes have 8 digits; a 6-digit code is their last 6.
	tests := []struct {
		unix int64
		rfc8 string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		t.Run(tt.rfc8, func(t *testing.T) {
			if got, want := Code(rfcSecret, Step(time.Unix(tt.unix, 0))), tt.rfc8[2:]; got != want {
				t.Errorf("Code at %d = %s, want %s", tt.unix, got, want)
			}
		})
	}
}

func TestStep(t *testing.T) {
	for _, tt := range []struct {
		unix, want int64
	}{{0, 0}, {29, 0}, {30, 1}, {59, 1}, {1111111109, 37037036}} {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cur := Step(now)
	codeAt := func(step int64) string { return Code(rfcSecret, step) }
	tests := []struct {
		name     string
		code     string
		lastUsed int64
		wantStep int64
		wantErr  error
	}{
		{"current step accepted", codeAt(cur), 0, cur, nil},
		{"previous step accepted", codeAt(cur - 1), 0, cur - 1, nil},
		{"next step accepted", codeAt(cur + 1), 0, cur + 1, nil},
		{"two steps old refused", codeAt(cur - 2), 0, 0, ErrInvalid},
		{"two steps ahead refused", codeAt(cur + 2), 0, 0, ErrInvalid},
		{"same step reused refused", codeAt(cur), cur, 0, ErrReused},
		{"older step after a newer one refused", codeAt(cur - 1), cur, 0, ErrReused},
		{"current step after the previous one accepted", codeAt(cur), cur - 1, cur, nil},
		{"next step after the current one accepted", codeAt(cur + 1), cur, cur + 1, nil},
		{"wrong code refused", wrongCode(codeAt(cur-1), codeAt(cur), codeAt(cur+1)), 0, 0, ErrInvalid},
		{"five digits refused", codeAt(cur)[:5], 0, 0, ErrInvalid},
		{"seven digits refused", codeAt(cur) + "0", 0, 0, ErrInvalid},
		{"empty refused", "", 0, 0, ErrInvalid},
		{"letters refused", "12a456", 0, 0, ErrInvalid},
		{"spaces refused", " " + codeAt(cur)[1:], 0, 0, ErrInvalid},
		{"non-ASCII digits refused", "١٢٣", 0, 0, ErrInvalid},
		{"signed number refused", "+12345", 0, 0, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := Validate(rfcSecret, tt.code, now, tt.lastUsed)
			if !errors.Is(err, tt.wantErr) || step != tt.wantStep {
				t.Errorf("Validate(%q, lastUsed %d) = %d, %v; want %d, %v",
					tt.code, tt.lastUsed-cur, step-cur, err, tt.wantStep-cur, tt.wantErr)
			}
		})
	}
}

// wrongCode returns a 6-digit code equal to none of codes.
func wrongCode(codes ...string) string {
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if c != codes[0] && c != codes[1] && c != codes[2] {
			return c
		}
	}
	panic("unreachable")
}

func TestValidateRefusesEmptySecret(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	if _, err := Validate(nil, Code(nil, Step(now)), now, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate with empty secret = %v, want ErrInvalid", err)
	}
}

func TestNewSecret(t *testing.T) {
	secret, uri, err := NewSecret("Lockbox", "alice", bytes.NewReader(rfcSecret))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, rfcSecret) {
		t.Errorf("secret = %x, want the 20 bytes read from rand", secret)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "issuer": "Lockbox",
		"algorithm": "SHA1", "digits": "6", "period": "30",
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Lockbox:alice" {
		t.Errorf("uri = %s, want otpauth://totp/Lockbox:alice?...", uri)
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("uri %s has %s=%q, want %q", uri, k, q.Get(k), v)
		}
	}
	t.Run("short random source fails", func(t *testing.T) {
		if _, _, err := NewSecret("Lockbox", "alice", bytes.NewReader(make([]byte, 5))); err == nil {
			t.Error("NewSecret succeeded")
		}
	})
	t.Run("crypto random secrets differ", func(t *testing.T) {
		a, _, err1 := NewSecret("Lockbox", "alice", nil)
		b, _, err2 := NewSecret("Lockbox", "alice", nil)
		if err1 != nil || err2 != nil || len(a) != SecretSize || bytes.Equal(a, b) {
			t.Errorf("NewSecret(nil rand): %x, %x, %v, %v", a, b, err1, err2)
		}
	})
	t.Run("missing account fails", func(t *testing.T) {
		if _, _, err := NewSecret("Lockbox", "", nil); err == nil {
			t.Error("NewSecret with empty account succeeded")
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte("12345678901234567890"), "287082", int64(59), int64(0))
	f.Add([]byte{}, "", int64(0), int64(-1))
	f.Add([]byte{1}, "12345a", int64(-100), int64(1<<62))
	f.Fuzz(func(t *testing.T, secret []byte, code string, unix, lastUsed int64) {
		now := time.Unix(unix, 0)
		step, err := Validate(secret, code, now, lastUsed)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrReused) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		cur := Step(now)
		if step <= lastUsed || step < cur-1 || step > cur+1 || Code(secret, step) != code {
			t.Fatalf("accepted %q at step %d (now %d, lastUsed %d)", code, step, cur, lastUsed)
		}
	})
}
