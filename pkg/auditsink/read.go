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

// Read reads the signed checkpoints a File or a Dir sink wrote at path: a
// directory of NAME and NAME.sig pairs, or a file of bundles. It checks
// their form, not their signatures: call Verify on each.
func Read(path string) ([]audit.SignedCheckpoint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	if !fi.IsDir() {
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
		name := strings.TrimSuffix(sig, ".sig")
		text, err := readBounded(name)
		if err != nil {
			return nil, err
		}
		armored, err := readBounded(sig)
		if err != nil {
			return nil, err
		}
		c, err := audit.ParseCheckpoint(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, audit.SignedCheckpoint{Checkpoint: c, Text: text, Signature: armored})
	}
	return out, nil
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
		return nil, fmt.Errorf("reading %s: over %d bytes", path, maxRead)
	}
	return data, nil
}
