package audit

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// SignedCheckpoint is a checkpoint, the exact text that was signed, and an
// armored SSH signature over it (OpenSSH's PROTOCOL.sshsig, the format of
// ssh-keygen -Y sign), so that
//
//	ssh-keygen -Y verify -f allowed_signers -I lockbox-audit \
//	    -n lockbox-audit-checkpoint@lockbox -s checkpoint.sig < checkpoint
//
// checks it with nothing but OpenSSH and the audit public key.
type SignedCheckpoint struct {
	Checkpoint
	Text      []byte // what was signed: Checkpoint.Text()
	Signature []byte // "-----BEGIN SSH SIGNATURE-----" ... "-----END SSH SIGNATURE-----\n"
}

const (
	sigBegin = "-----BEGIN SSH SIGNATURE-----"
	sigEnd   = "-----END SSH SIGNATURE-----"
	// maxSignature bounds one armored signature: an RSA-8192 one is
	// under 3 KiB.
	maxSignature = 8 << 10
)

// SignCheckpoint signs c with key (the audit key) in CheckpointNamespace,
// hashing with SHA-512 as ssh-keygen does by default.
func SignCheckpoint(c Checkpoint, key ssh.Signer, rand io.Reader) (SignedCheckpoint, error) {
	if err := c.check(); err != nil {
		return SignedCheckpoint{}, err
	}
	text := c.Text()
	sig, err := sshsig.SignWithRand(bytes.NewReader(text), rand, key, sshsig.HashSHA512, CheckpointNamespace)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("signing the audit checkpoint: %w", err)
	}
	return SignedCheckpoint{Checkpoint: c, Text: text, Signature: sshsig.Armor(sig)}, nil
}

// Verify checks that the signature is key's, over s.Text, in
// CheckpointNamespace, and that s.Text states s.Checkpoint. Every failure
// wraps ErrCheckpointSignature (or ErrCheckpointFormat for the text).
func (s SignedCheckpoint) Verify(key ssh.PublicKey) error {
	c, err := ParseCheckpoint(s.Text)
	if err != nil {
		return err
	}
	if c.Seq != s.Seq || !bytes.Equal(c.Hash, s.Hash) || !c.Time.Equal(s.Time) {
		return fmt.Errorf("%w: the checkpoint does not match its signed text", ErrCheckpointSignature)
	}
	sig, err := parseArmored(s.Signature)
	if err != nil {
		return err
	}
	if sig.Namespace != CheckpointNamespace {
		return fmt.Errorf("%w: the signature is for %q, not %q", ErrCheckpointSignature, sig.Namespace, CheckpointNamespace)
	}
	if err := sig.HashAlgorithm.Available(); err != nil {
		return fmt.Errorf("%w: %v", ErrCheckpointSignature, err)
	}
	if err := sshsig.Verify(bytes.NewReader(s.Text), sig, key, sig.HashAlgorithm, CheckpointNamespace); err != nil {
		return fmt.Errorf("%w (%s): %v", ErrCheckpointSignature, ssh.FingerprintSHA256(key), err)
	}
	return nil
}

func parseArmored(armored []byte) (*sshsig.Signature, error) {
	if len(armored) > maxSignature {
		return nil, fmt.Errorf("%w: a signature of %d bytes", ErrCheckpointSignature, len(armored))
	}
	block, rest := pem.Decode(armored)
	if block == nil || block.Type != sshsig.PEMType || len(block.Headers) != 0 || len(bytes.TrimSpace(rest)) != 0 ||
		!bytes.HasPrefix(armored, []byte(sigBegin+"\n")) {
		return nil, fmt.Errorf("%w: not one armored SSH signature", ErrCheckpointSignature)
	}
	sig, err := sshsig.ParseSignature(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: unreadable signature: %v", ErrCheckpointSignature, err)
	}
	return sig, nil
}

// Bundle is the checkpoint's text followed by its armored signature: the
// form appended to a checkpoint file and printed by `lockbox audit
// checkpoint`. ParseSignedCheckpoints reads any number of them.
func (s SignedCheckpoint) Bundle() []byte {
	return append(append([]byte(nil), s.Text...), s.Signature...)
}

// ParseSignedCheckpoints reads bundles, one after another (blank lines
// between them are allowed). It checks their form, not their signatures:
// call Verify on each.
func ParseSignedCheckpoints(data []byte) ([]SignedCheckpoint, error) {
	var out []SignedCheckpoint
	lines := bytes.SplitAfter(data, []byte("\n"))
	lineNo := 0
	next := func() []byte {
		l := lines[lineNo]
		lineNo++
		return l
	}
	for lineNo < len(lines) {
		start := lineNo + 1
		if l := lines[lineNo]; len(bytes.TrimSpace(l)) == 0 {
			lineNo++
			continue
		}
		var text, sig []byte
		for lineNo < len(lines) && !bytes.HasPrefix(lines[lineNo], []byte(sigBegin)) && len(text) <= maxCheckpointText {
			text = append(text, next()...)
		}
		for lineNo < len(lines) && len(sig) <= maxSignature {
			l := next()
			sig = append(sig, l...)
			if bytes.HasPrefix(l, []byte(sigEnd)) {
				break
			}
		}
		if !bytes.HasSuffix(sig, []byte(sigEnd+"\n")) && !bytes.HasSuffix(sig, []byte(sigEnd)) {
			return nil, fmt.Errorf("checkpoint at line %d: %w: no complete armored signature after it", start, ErrCheckpointFormat)
		}
		c, err := ParseCheckpoint(text)
		if err != nil {
			return nil, fmt.Errorf("checkpoint at line %d: %w", start, err)
		}
		if _, err := parseArmored(sig); err != nil {
			return nil, fmt.Errorf("checkpoint at line %d: %w", start, err)
		}
		out = append(out, SignedCheckpoint{Checkpoint: c, Text: text, Signature: sig})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no checkpoint found", ErrCheckpointFormat)
	}
	return out, nil
}
