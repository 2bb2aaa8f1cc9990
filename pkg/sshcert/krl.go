package sshcert

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// KRL wire constants from OpenSSH's PROTOCOL.krl.
const (
	krlMagic                = "SSHKRL\n\x00"
	krlFormatVersion        = 1
	krlSectionCertificates  = 0x01
	krlSectionCertSerialLst = 0x20
)

// KRLSection revokes, by serial, certificates signed by CA.
type KRLSection struct {
	CA      ssh.PublicKey // the signing CA's raw public key; must not be nil
	Serials []uint64
}

// MarshalKRL encodes an OpenSSH key revocation list (PROTOCOL.krl, format
// version 1, unsigned) revoking the given certificate serials, for use as
// sshd's RevokedKeys or with ssh-keygen -Q.
//
// version must increase each time the list changes. Each CA gets one
// certificates section with one serial list, sorted and deduplicated;
// sections naming the same CA are merged. Serial 0, which OpenSSH refuses
// in serial lists, is dropped (NewSerial never issues it), and a CA left
// with no serials gets no section. MarshalKRL panics if a section with
// serials has a nil CA: a revocation must never be silently lost.
//
// The caller must replace the target's file atomically (write then rename):
// sshd refuses every certificate login if it cannot read the KRL.
func MarshalKRL(version uint64, generated time.Time, comment string, sections []KRLSection) []byte {
	var b []byte
	b = append(b, krlMagic...)
	b = binary.BigEndian.AppendUint32(b, krlFormatVersion)
	b = binary.BigEndian.AppendUint64(b, version)
	b = binary.BigEndian.AppendUint64(b, unixSeconds(generated))
	b = binary.BigEndian.AppendUint64(b, 0) // flags
	b = appendString(b, nil)                // reserved
	b = appendString(b, []byte(comment))
	for _, s := range mergeKRLSections(sections) {
		b = append(b, krlSectionCertificates)
		b = appendString(b, certSection(s.ca, s.serials))
	}
	return b
}

// krlCA is one CA's merged, sorted, non-zero serials.
type krlCA struct {
	ca      []byte
	serials []uint64
}

// mergeKRLSections groups serials by CA key bytes, in first-seen order.
func mergeKRLSections(sections []KRLSection) []krlCA {
	var out []krlCA
	for _, s := range sections {
		serials := slices.DeleteFunc(slices.Clone(s.Serials), func(n uint64) bool { return n == 0 })
		if len(serials) == 0 {
			continue
		}
		if s.CA == nil {
			panic("sshcert: MarshalKRL section with serials has no CA key")
		}
		ca := s.CA.Marshal()
		i := slices.IndexFunc(out, func(k krlCA) bool { return bytes.Equal(k.ca, ca) })
		if i < 0 {
			out = append(out, krlCA{ca: ca})
			i = len(out) - 1
		}
		out[i].serials = append(out[i].serials, serials...)
	}
	for i := range out {
		slices.Sort(out[i].serials)
		out[i].serials = slices.Compact(out[i].serials)
	}
	return out
}

// certSection is the body of a KRL_SECTION_CERTIFICATES section.
func certSection(ca []byte, serials []uint64) []byte {
	list := make([]byte, 0, 8*len(serials))
	for _, n := range serials {
		list = binary.BigEndian.AppendUint64(list, n)
	}
	var b []byte
	b = appendString(b, ca)
	b = appendString(b, nil) // reserved
	b = append(b, krlSectionCertSerialLst)
	return appendString(b, list)
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// unixSeconds is t in seconds since 1970, or 0 for earlier or zero times.
func unixSeconds(t time.Time) uint64 {
	if s := t.Unix(); s > 0 {
		return uint64(s)
	}
	return 0
}
