package apiauth

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

const (
	scheme         = "Lockbox-SSH-Sig"
	headerVersion  = "1"
	maxHeaderBytes = 4096
	nonceBytes     = 16
	maxNonceChars  = 64
	maxTSDigits    = 12
)

// authParams are the decoded parameters of one Authorization header.
type authParams struct {
	principal string
	keyFP     string // as ssh.FingerprintSHA256
	ts        int64  // unix seconds
	nonce     string // base64url, unpadded
	sig       *ssh.Signature
}

// String formats p as an Authorization header value.
func (p *authParams) String() string {
	return fmt.Sprintf("%s v=%s,principal=%s,key=%s,ts=%d,nonce=%s,sig=%s",
		scheme, headerVersion, p.principal, p.keyFP, p.ts, p.nonce,
		base64.StdEncoding.EncodeToString(ssh.Marshal(p.sig)))
}

// parseHeader parses an Authorization header value strictly: every parameter
// exactly once, in any order, nothing else.
func parseHeader(value string) (*authParams, error) {
	raw, err := splitParams(value)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"v", "principal", "key", "ts", "nonce", "sig"} {
		if raw[name] == "" {
			return nil, fmt.Errorf("%w: missing parameter %q", ErrMalformed, name)
		}
	}
	if raw["v"] != headerVersion {
		return nil, fmt.Errorf("%w: unsupported version", ErrMalformed)
	}
	return decodeParams(raw)
}

// splitParams splits the header into its named raw values, refusing unknown
// and repeated names and values with characters outside the allowed set.
func splitParams(value string) (map[string]string, error) {
	if len(value) > maxHeaderBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxHeaderBytes)
	}
	rest, ok := strings.CutPrefix(value, scheme+" ")
	if !ok {
		return nil, fmt.Errorf("%w: not a %s header", ErrMalformed, scheme)
	}
	raw := map[string]string{"v": "", "principal": "", "key": "", "ts": "", "nonce": "", "sig": ""}
	for field := range strings.SplitSeq(rest, ",") {
		name, val, _ := strings.Cut(field, "=")
		prev, known := raw[name]
		switch {
		case !known:
			return nil, fmt.Errorf("%w: unknown parameter", ErrMalformed)
		case prev != "":
			return nil, fmt.Errorf("%w: repeated parameter %q", ErrMalformed, name)
		case !validValue(val):
			return nil, fmt.Errorf("%w: bad value for parameter %q", ErrMalformed, name)
		}
		raw[name] = val
	}
	return raw, nil
}

// validValue accepts non-empty printable ASCII without space, quote, comma
// or backslash.
func validValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c > '~' || c == '"' || c == ',' || c == '\\' {
			return false
		}
	}
	return true
}

func decodeParams(raw map[string]string) (*authParams, error) {
	p := &authParams{principal: raw["principal"], keyFP: raw["key"], nonce: raw["nonce"]}
	if !ValidPrincipal(p.principal) {
		return nil, fmt.Errorf("%w: bad principal", ErrMalformed)
	}
	if !validFingerprint(p.keyFP) {
		return nil, fmt.Errorf("%w: bad key fingerprint", ErrMalformed)
	}
	if !validNonce(p.nonce) {
		return nil, fmt.Errorf("%w: bad nonce", ErrMalformed)
	}
	var err error
	if p.ts, err = parseTimestamp(raw["ts"]); err != nil {
		return nil, err
	}
	if p.sig, err = decodeSignature(raw["sig"]); err != nil {
		return nil, err
	}
	return p, nil
}

// validFingerprint accepts "SHA256:" followed by unpadded standard base64 of
// 32 bytes, as ssh.FingerprintSHA256 produces.
func validFingerprint(fp string) bool {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if !ok {
		return false
	}
	sum, err := base64.RawStdEncoding.Strict().DecodeString(b64)
	return err == nil && len(sum) == 32
}

func validNonce(n string) bool {
	if len(n) > maxNonceChars {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(n)
	return err == nil && len(b) >= nonceBytes
}

// parseTimestamp accepts canonical decimal unix seconds only (no sign, no
// leading zeros), so the signed text and the parsed value agree.
func parseTimestamp(s string) (int64, error) {
	if len(s) > maxTSDigits || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: bad timestamp", ErrMalformed)
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad timestamp", ErrMalformed)
	}
	return ts, nil
}

func decodeSignature(s string) (*ssh.Signature, error) {
	blob, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64", ErrMalformed)
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal(blob, sig); err != nil || sig.Format == "" || len(sig.Blob) == 0 {
		return nil, fmt.Errorf("%w: signature is not an SSH signature", ErrMalformed)
	}
	return sig, nil
}
