package api

import (
	"errors"
	"sync"
)

// Defaults for Config.MaxUploads and Config.MaxUploadBytes.
const (
	DefaultMaxUploads     = 4
	DefaultMaxUploadBytes = 4 << 30
)

// errUploadsBusy: the CA is already receiving as many recordings, or as
// many bytes, as it allows at once. The bastion keeps the recording in its
// spool and tries again.
var errUploadsBusy = errors.New("the CA is receiving as many recordings as it allows at once; the bastion keeps this one and tries again")

// uploadGate bounds the recordings being received at once, in number and
// in declared bytes (what their temporary files may hold together).
type uploadGate struct {
	mu             sync.Mutex
	n, maxN        int
	bytes, maxByte int64
}

// acquire reserves room for an upload of length bytes, or fails at once
// with errUploadsBusy; call release when the upload is done.
func (g *uploadGate) acquire(length int64) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n >= g.maxN || g.bytes+length > g.maxByte {
		return nil, errUploadsBusy
	}
	g.n++
	g.bytes += length
	return func() {
		g.mu.Lock()
		g.n--
		g.bytes -= length
		g.mu.Unlock()
	}, nil
}
