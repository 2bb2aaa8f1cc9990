package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers every webhook delivery carries.
const (
	// SignatureHeader holds "t=UNIX_SECONDS,v1=HEX": v1 is the
	// HMAC-SHA256, under the endpoint's secret, of the decimal timestamp,
	// a full stop, and the raw body. Receivers check it with Verify.
	SignatureHeader = "Lockbox-Signature"
	// IdempotencyHeader holds Message.Key, the same at every attempt.
	IdempotencyHeader = "Idempotency-Key"
	// EventHeader holds the Kind.
	EventHeader = "Lockbox-Event"
)

// Why Verify refused a delivery.
var (
	ErrNoSignature         = errors.New("notify: no signature header")
	ErrMalformedSignature  = errors.New("notify: malformed signature header")
	ErrSignatureMismatch   = errors.New("notify: signature does not match")
	ErrTimestampOutOfRange = errors.New("notify: signature timestamp outside the tolerance")
)

// Limits of what ParseSignature reads, so a hostile header costs little.
const (
	maxSignatureHeader = 4096
	maxSignatures      = 8
)

// Signature is a parsed SignatureHeader.
type Signature struct {
	Timestamp int64    // Unix seconds
	V1        [][]byte // HMAC-SHA256 values; any one matching is enough
}

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery as a receiver must before acting on it: header
// is the SignatureHeader as received, body the raw bytes read, now the
// receiver's clock. The signature must match under secret, and its
// timestamp be within tolerance of now (either side), so a captured
// delivery cannot be replayed later. Within the tolerance, receivers drop
// repeats by the idempotency key. Errors are the Err* values above.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty secret", ErrSignatureMismatch)
	}
	if tolerance <= 0 {
		return fmt.Errorf("%w: tolerance must be positive", ErrTimestampOutOfRange)
	}
	sig, err := ParseSignature(header)
	if err != nil {
		return err
	}
	want := mac(secret, sig.Timestamp, body)
	matched := false
	for _, v := range sig.V1 {
		if hmac.Equal(v, want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	age := now.Sub(time.Unix(sig.Timestamp, 0))
	if age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed %v from now, tolerance %v", ErrTimestampOutOfRange, age.Round(time.Second), tolerance)
	}
	return nil
}

// ParseSignature parses a SignatureHeader value: comma-separated key=value
// items, exactly one t (decimal Unix seconds), one to eight v1 (64 hex
// digits); items with other keys are ignored, so later schemes can be
// added beside v1.
func ParseSignature(header string) (Signature, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return Signature{}, ErrNoSignature
	}
	if len(header) > maxSignatureHeader {
		return Signature{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformedSignature, maxSignatureHeader)
	}
	var sig Signature
	seenT := false
	for item := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || key == "" {
			return Signature{}, fmt.Errorf("%w: item %q is not key=value", ErrMalformedSignature, item)
		}
		switch key {
		case "t":
			if seenT {
				return Signature{}, fmt.Errorf("%w: more than one t", ErrMalformedSignature)
			}
			ts, err := parseTimestamp(value)
			if err != nil {
				return Signature{}, err
			}
			sig.Timestamp, seenT = ts, true
		case "v1":
			if len(sig.V1) == maxSignatures {
				return Signature{}, fmt.Errorf("%w: more than %d v1 values", ErrMalformedSignature, maxSignatures)
			}
			v, err := hex.DecodeString(value)
			if err != nil || len(v) != sha256.Size {
				return Signature{}, fmt.Errorf("%w: v1 must be %d hex digits", ErrMalformedSignature, 2*sha256.Size)
			}
			sig.V1 = append(sig.V1, v)
		}
	}
	if !seenT {
		return Signature{}, fmt.Errorf("%w: no t", ErrMalformedSignature)
	}
	if len(sig.V1) == 0 {
		return Signature{}, fmt.Errorf("%w: no v1", ErrMalformedSignature)
	}
	return sig, nil
}

// parseTimestamp takes only decimal digits: no sign, no spaces, no
// exponent, at most 12 digits (well past the year 33000).
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > 12 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: t must be decimal Unix seconds", ErrMalformedSignature)
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: t: %v", ErrMalformedSignature, err)
	}
	return ts, nil
}
