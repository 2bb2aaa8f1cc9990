package notify

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = []byte("whsec-test-0123456789")
	testBody   = []byte(`{"schema":"lockbox.notification.v1","id":"k"}`)
	signedAt   = time.Unix(1_800_000_000, 0)
)

func TestSignatureVerifiesOnlyTheSignedBytesWithinTheTolerance(t *testing.T) {
	header := Sign(testSecret, testBody, signedAt)
	tolerance := 5 * time.Minute
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"as signed", testSecret, header, testBody, signedAt, nil},
		{"just inside the tolerance after", testSecret, header, testBody, signedAt.Add(tolerance), nil},
		{"just inside the tolerance before (receiver's clock behind)", testSecret, header, testBody, signedAt.Add(-tolerance), nil},
		{"just past the tolerance: a replay", testSecret, header, testBody, signedAt.Add(tolerance + time.Second), ErrTimestampOutOfRange},
		{"too far in the future", testSecret, header, testBody, signedAt.Add(-tolerance - time.Second), ErrTimestampOutOfRange},
		{"body changed", testSecret, header, append([]byte(nil), `{"schema":"lockbox.notification.v1","id":"K"}`...), signedAt, ErrSignatureMismatch},
		{"body extended", testSecret, header, append(append([]byte(nil), testBody...), ' '), signedAt, ErrSignatureMismatch},
		{"other secret", []byte("another secret"), header, testBody, signedAt, ErrSignatureMismatch},
		{"empty secret", nil, header, testBody, signedAt, ErrSignatureMismatch},
		{"timestamp moved, signature kept", testSecret, strings.Replace(header, "t=1800000000", "t=1800000001", 1), testBody, signedAt, ErrSignatureMismatch},
		{"no header", testSecret, "", testBody, signedAt, ErrNoSignature},
		{"garbage header", testSecret, "sha256=abc", testBody, signedAt, ErrMalformedSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, tc.body, tc.now, tolerance)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyAcceptsAnyMatchingV1AndIgnoresUnknownSchemes(t *testing.T) {
	good := Sign(testSecret, testBody, signedAt)
	_, goodV1, _ := strings.Cut(good, ",")
	other := Sign([]byte("old secret"), testBody, signedAt)
	_, otherV1, _ := strings.Cut(other, ",")
	header := "t=" + strconv.FormatInt(signedAt.Unix(), 10) + "," + otherV1 + ", v0=legacy ," + goodV1
	if err := Verify(testSecret, header, testBody, signedAt, time.Minute); err != nil {
		t.Fatalf("Verify(%q) = %v, want nil", header, err)
	}
}

func TestVerifyRefusesANonPositiveTolerance(t *testing.T) {
	header := Sign(testSecret, testBody, signedAt)
	if err := Verify(testSecret, header, testBody, signedAt, 0); !errors.Is(err, ErrTimestampOutOfRange) {
		t.Fatalf("Verify with tolerance 0 = %v, want ErrTimestampOutOfRange", err)
	}
}

func TestParseSignatureRefusesMalformedHeaders(t *testing.T) {
	v1 := strings.Repeat("ab", 32)
	tests := []string{
		"t=1",                      // no v1
		"v1=" + v1,                 // no t
		"t=1,t=2,v1=" + v1,         // two t
		"t=-1,v1=" + v1,            // signed
		"t=+1,v1=" + v1,            // signed
		"t=1e9,v1=" + v1,           // exponent
		"t= 1,v1=" + v1,            // space inside the value
		"t=1234567890123,v1=" + v1, // too many digits
		"t=1,v1=" + v1[:62],        // short
		"t=1,v1=" + v1 + "00",      // long
		"t=1,v1=" + strings.Repeat("zz", 32),
		"t=1,,v1=" + v1, // empty item
		"t=1,v1",        // not key=value
		"t=1,=x,v1=" + v1,
		"t=1" + strings.Repeat(",v1="+v1, maxSignatures+1),
		"t=1,v1=" + v1 + strings.Repeat(",x=y", maxSignatureHeader/4),
	}
	for _, h := range tests {
		if _, err := ParseSignature(h); !errors.Is(err, ErrMalformedSignature) {
			t.Errorf("ParseSignature(%.60q) = %v, want ErrMalformedSignature", h, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(Sign(testSecret, testBody, signedAt), testBody)
	f.Add("t=1800000000,v1="+strings.Repeat("0", 64), []byte("x"))
	f.Add("t=1,v1=,v1=", []byte{})
	f.Add(" t=99999999999 , v1=ZZ ", []byte("{}"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		sig, perr := ParseSignature(header)
		err := Verify(testSecret, header, body, signedAt, 5*time.Minute)
		if perr != nil {
			if err == nil {
				t.Fatalf("Verify accepted a header ParseSignature refuses: %q", header)
			}
			return
		}
		if len(sig.V1) == 0 || len(sig.V1) > maxSignatures {
			t.Fatalf("parsed %d v1 values", len(sig.V1))
		}
		if err == nil {
			// Only a real signature over these bytes may pass.
			want := mac(testSecret, sig.Timestamp, body)
			found := false
			for _, v := range sig.V1 {
				found = found || string(v) == string(want)
			}
			if !found {
				t.Fatalf("Verify accepted %q without a matching v1", header)
			}
		}
	})
}
