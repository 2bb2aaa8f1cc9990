package apiauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// validHeader returns a header as Sign makes it.
func validHeader(t testing.TB) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://ca.example/v1/me", nil)
	s := &Signer{Principal: "user:alice", Key: signerFor(t, ed25519Key()), Clock: clockAt(testNow)}
	if err := s.Sign(r, nil); err != nil {
		t.Fatal(err)
	}
	return r.Header.Get("Authorization")
}

func TestParseHeaderAcceptsAnyParameterOrder(t *testing.T) {
	h := validHeader(t)
	fields := headerFields(h)
	for i, j := 0, len(fields)-1; i < j; i, j = i+1, j-1 {
		fields[i], fields[j] = fields[j], fields[i]
	}
	p, err := parseHeader(scheme + " " + strings.Join(fields, ","))
	if err != nil {
		t.Fatalf("reversed parameters: %v", err)
	}
	if p.String() != h {
		t.Errorf("reformatted %q, want %q", p.String(), h)
	}
}

func TestParseHeaderRejectsMalformed(t *testing.T) {
	h := validHeader(t)
	sig := base64.StdEncoding.EncodeToString
	tests := []struct {
		name   string
		header string
	}{
		{"empty", ""},
		{"other scheme", "Bearer abc"},
		{"scheme in lower case", strings.Replace(h, scheme, strings.ToLower(scheme), 1)},
		{"scheme without parameters", scheme},
		{"scheme with empty parameters", scheme + " "},
		{"two spaces after scheme", strings.Replace(h, scheme+" ", scheme+"  ", 1)},
		{"space after comma", strings.Replace(h, ",principal", ", principal", 1)},
		{"unknown parameter", h + ",extra=1"},
		{"repeated parameter", h + ",v=1"},
		{"repeated parameter with same value", h + ",principal=user:alice"},
		{"trailing comma", h + ","},
		{"parameter without value", withParam(h, "nonce", "")},
		{"parameter without equals sign", strings.Replace(h, "v=1", "v", 1)},
		{"missing v", withoutParam(h, "v")},
		{"missing principal", withoutParam(h, "principal")},
		{"missing key", withoutParam(h, "key")},
		{"missing ts", withoutParam(h, "ts")},
		{"missing nonce", withoutParam(h, "nonce")},
		{"missing sig", withoutParam(h, "sig")},
		{"quoted value", withParam(h, "principal", `"user:alice"`)},
		{"value with space", withParam(h, "principal", "user:al ice")},
		{"value with backslash", withParam(h, "principal", `user:al\ice`)},
		{"value with non-ASCII", withParam(h, "principal", "user:alicé")},
		{"oversize header", h + ",pad=" + strings.Repeat("x", maxHeaderBytes)},
		{"unsupported version", withParam(h, "v", "2")},
		{"principal of unknown kind", withParam(h, "principal", "admin:alice")},
		{"principal with upper case", withParam(h, "principal", "user:Alice")},
		{"principal name too long", withParam(h, "principal", "user:"+strings.Repeat("a", 64))},
		{"md5 fingerprint", withParam(h, "key", "MD5:aa:bb")},
		{"fingerprint of wrong length", withParam(h, "key", "SHA256:AAAA")},
		{"timestamp with leading zero", withParam(h, "ts", "01700000000")},
		{"negative timestamp", withParam(h, "ts", "-1700000000")},
		{"timestamp with sign", withParam(h, "ts", "+1700000000")},
		{"timestamp not a number", withParam(h, "ts", "now")},
		{"timestamp too long", withParam(h, "ts", "99999999999999999999")},
		{"nonce too short", withParam(h, "nonce", "AAAAAAAAAAAAAAAAAAAA")},
		{"nonce too long", withParam(h, "nonce", strings.Repeat("A", maxNonceChars+1))},
		{"nonce with padding", withParam(h, "nonce", "AAAAAAAAAAAAAAAAAAAAAA==")},
		{"nonce in standard alphabet", withParam(h, "nonce", "+/AAAAAAAAAAAAAAAAAAAA")},
		{"signature not base64", withParam(h, "sig", "!!!!")},
		{"signature not an SSH signature", withParam(h, "sig", sig([]byte("garbage")))},
		{"signature with empty blob", withParam(h, "sig", sig([]byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x00")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseHeader(tt.header); !errors.Is(err, ErrMalformed) {
				t.Errorf("parseHeader(%.80q) = %v, want ErrMalformed", tt.header, err)
			}
		})
	}
}

func FuzzParseHeader(f *testing.F) {
	h := validHeader(f)
	for _, seed := range []string{
		h, "", scheme + " ", h + ",v=1", withoutParam(h, "sig"), withParam(h, "ts", "0"),
		strings.Replace(h, ",", ",,", 2), scheme + " v=1,principal=user:a,key=SHA256:,ts=1,nonce=,sig=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		p, err := parseHeader(header)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Whatever parses must format and parse back to the same thing.
		again, err := parseHeader(p.String())
		if err != nil {
			t.Fatalf("reformatted header %q does not parse: %v", p.String(), err)
		}
		if again.String() != p.String() {
			t.Fatalf("round trip changed %q to %q", p.String(), again.String())
		}
	})
}
