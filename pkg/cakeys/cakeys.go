package cakeys

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/sshcert"
)

// Kind names one of the CA's three keys.
type Kind string

// The three CA keys.
const (
	User Kind = "user" // signs grant certificates; the bastion trusts it
	Hop  Kind = "hop"  // signs the bastion's per-session certificates; targets trust it
	Host Kind = "host" // signs host certificates; clients and the bastion trust it
)

// Kinds are the three kinds, in the order the CA reports them.
var Kinds = []Kind{User, Hop, Host}

// ParseKind reads "user", "hop" or "host".
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown CA key %q: want user, hop or host", s)
}

// File is the name of the kind's signing key in the data directory:
// user_ca, hop_ca or host_ca.
func (k Kind) File() string { return string(k) + "_ca" }

// The refusals of the rotation steps.
var (
	ErrPrepared   = errors.New("cakeys: a next key is already prepared")
	ErrOverlap    = errors.New("cakeys: the previous key is still trusted")
	ErrNoPrevious = errors.New("cakeys: there is no previous key to retire")
	ErrNoKey      = errors.New("cakeys: there is no key")
	ErrIncomplete = errors.New("cakeys: a rotation step was interrupted")
)

// Key is one kind's keys as the data directory holds them.
type Key struct {
	Kind Kind
	// Signer signs every new certificate of this kind.
	Signer ssh.Signer
	// Next is a prepared key, trusted and published but signing nothing
	// yet; nil when none is prepared.
	Next ssh.PublicKey
	// Previous is the key Signer replaced, trusted and published until it
	// is retired; nil outside a rotation's overlap.
	Previous ssh.PublicKey
}

// Trusted returns every key of this kind to trust now: the signing key
// first, then the prepared or previous one if there is one.
func (k *Key) Trusted() []ssh.PublicKey {
	out := []ssh.PublicKey{k.Signer.PublicKey()}
	for _, o := range []ssh.PublicKey{k.Next, k.Previous} {
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

// Phase says where a rotation is: "steady" (one key), "prepared" (a next
// key published) or "overlap" (a previous key still trusted).
func (k *Key) Phase() string {
	switch {
	case k.Next != nil:
		return "prepared"
	case k.Previous != nil:
		return "overlap"
	}
	return "steady"
}

// paths are a kind's file names in dir.
type paths struct{ current, next, previous string }

func pathsOf(dir string, k Kind) paths {
	base := filepath.Join(dir, k.File())
	return paths{current: base, next: base + ".next", previous: base + ".previous.pub"}
}

// Load reads kind's keys from dir. It refuses a missing signing key
// (wrapping [ErrNoKey] and fs.ErrNotExist), a key file others may read, a
// .pub that is not the private key's half, and the state an interrupted
// step leaves ([ErrIncomplete], saying which step to run again).
func Load(dir string, kind Kind) (*Key, error) {
	p := pathsOf(dir, kind)
	signer, err := sshcert.LoadSigner(p.current)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w %s in %s: %w", ErrNoKey, kind.File(), dir, err)
		}
		return nil, fmt.Errorf("loading the %s key: %w", kind.File(), err)
	}
	k := &Key{Kind: kind, Signer: signer}
	pub, err := readPublic(p.current + ".pub")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if pub != nil && !equal(pub, signer.PublicKey()) {
		return nil, fmt.Errorf("%w: %s.pub is not the public half of %s: run `ca rotate %s` again to finish the rotation", ErrIncomplete, p.current, p.current, kind)
	}
	if k.Next, err = readPublic(p.next + ".pub"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if k.Previous, err = readPublic(p.previous); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	switch {
	case k.Previous != nil && equal(k.Previous, signer.PublicKey()):
		return nil, fmt.Errorf("%w: %s is the signing key itself: run `ca rotate %s` again to finish the rotation", ErrIncomplete, p.previous, kind)
	case k.Next != nil && k.Previous != nil:
		return nil, fmt.Errorf("%w: both a next and a previous %s key: run `ca rotate %s` again to finish the rotation", ErrIncomplete, kind, kind)
	case k.Next != nil && !exists(p.next):
		return nil, fmt.Errorf("%w: %s.pub has no private key beside it: remove it and run `ca rotate prepare %s` again", ErrIncomplete, p.next, kind)
	}
	return k, nil
}

func readPublic(path string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := pub.(*ssh.Certificate); ok {
		return nil, fmt.Errorf("%s: a certificate, not a CA key", path)
	}
	return pub, nil
}

func equal(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// keyTypeOf is the type of key to make next: the current key's, when it is
// one [sshcert.GenerateKey] makes.
func keyTypeOf(s ssh.Signer) sshcert.KeyType {
	if s.PublicKey().Type() == ssh.KeyAlgoECDSA256 {
		return sshcert.KeyECDSAP256
	}
	return sshcert.KeyEd25519
}

func comment(kind Kind, now time.Time) string {
	return "lockbox " + kind.File() + " " + now.UTC().Format("2006-01-02")
}
