package recording

import (
	"fmt"
	"os"
)

// CheckWritable reports whether a new recording could be written now: it
// creates, writes and removes a small file in the spool. The bastion asks
// before a login's second factor, so that a spool it cannot write refuses
// the login before the user spends a code.
func (s *Spool) CheckWritable() error {
	f, err := os.CreateTemp(s.dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("recording: the spool is not writable: %w", err)
	}
	_, werr := f.Write([]byte{'\n'})
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	for _, err := range []error{werr, cerr, rerr} {
		if err != nil {
			return fmt.Errorf("recording: the spool is not writable: %w", err)
		}
	}
	return nil
}
