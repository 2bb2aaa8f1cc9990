package scim

import (
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Any body a directory may send gives an error or a change, never a
// panic; what a PATCH leaves always passes back through decoding.
func FuzzPatch(f *testing.F) {
	for _, seed := range []string{
		`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"Operations":[{"op":"replace","value":{"active":false,"userName":"x"}}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"u-1\"]"}]}`,
		`{"Operations":[{"op":"add","path":"members","value":[{"value":"u-2"}]}]}`,
		`{"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"a@b"}]}`,
		`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:displayName","value":"x"}]}`,
		`{"Operations":[],"operations":[]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := parsePatch(body)
		if err != nil {
			return
		}
		u := &store.DirectoryUser{UserName: "alice", Active: true}
		_ = applyUserPatch(u, ops)
		g := &store.DirectoryGroup{DisplayName: "g", Members: []string{"u-1"}}
		_ = applyGroupPatch(g, ops)
	})
}

// Filters of any shape are answered or refused, never a panic.
func FuzzFilter(f *testing.F) {
	for _, seed := range []string{`userName eq "alice"`, `id eq "g-1" and members eq "u-1"`, `userName eq "a\"b"`,
		`not (userName pr)`, `emails[type eq "work"]`, `((((userName eq "x"))))`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > maxFilter {
			return
		}
		_, _ = equalities(raw, userSchema, "userName", "id")
	})
}

// Bodies of any shape decode or are refused, never a panic.
func FuzzDecodeUser(f *testing.F) {
	f.Add([]byte(`{"userName":"a","active":true,"name":{"givenName":"x"}}`))
	f.Add([]byte(`{"userName":"a","USERNAME":"b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in userIn
		_ = decodeObject(body, &in, userAttributes...)
	})
}
