package auditsink

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
)

// maxRead bounds a checkpoint file read whole: a year of checkpoints
// every ten minutes is about 25 MiB.
const maxRead = 256 << 20

// Read reads the signed checkpoints at path, which is one of
//   - a directory as a Dir sink (audit_checkpoint.dir) writes it: every
//     NAME that has NAME.sig beside it (none: an empty list);
//   - a checkpoint's text with its signature in path.sig (as `lockbox
//     audit checkpoint --out` and ssh-keygen -Y sign write them);
//   - a file of bundles (text then armored signature), as a File sink
//     (audit_checkpoint.file) and `lockbox audit checkpoint` write them.
//
// It checks their form, not their signatures: call Verify on each.
func Read(path string) ([]audit.SignedCheckpoint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	if !fi.IsDir() {
		if _, err := os.Stat(path + ".sig"); err == nil {
			return readPair(path)
		}
		data, err := readBounded(path)
		if err != nil {
			return nil, err
		}
		cps, err := audit.ParseSignedCheckpoints(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return cps, nil
	}
	sigs, err := filepath.Glob(filepath.Join(path, "*.sig"))
	if err != nil {
		return nil, err
	}
	slices.Sort(sigs)
	var out []audit.SignedCheckpoint
	for _, sig := range sigs {
		cp, err := readPair(strings.TrimSuffix(sig, ".sig"))
		if err != nil {
			return nil, err
		}
		out = append(out, cp...)
	}
	return out, nil
}

// readPair reads the checkpoint text at path and its signature at
// path.sig.
func readPair(path string) ([]audit.SignedCheckpoint, error) {
	text, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	armored, err := readBounded(path + ".sig")
	if err != nil {
		return nil, err
	}
	c, err := audit.ParseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []audit.SignedCheckpoint{{Checkpoint: c, Text: text, Signature: armored}}, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRead+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxRead {
		return nil, fmt.Errorf("%s: larger than %d MiB; split it", path, maxRead>>20)
	}
	return data, nil
}
