package sshdtest

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// logBuffer collects sshd's stderr and lets a caller wait for a line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLogBuffer() *logBuffer {
	return &logBuffer{changed: make(chan struct{})}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor reports whether the log contains substr before stop is closed
// or timeout passes.
func (l *logBuffer) waitFor(substr string, stop <-chan struct{}, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		found := strings.Contains(l.buf.String(), substr)
		changed := l.changed
		l.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-changed:
		case <-stop:
			// The process may have written its last words just before exiting.
			return strings.Contains(l.String(), substr)
		case <-deadline.C:
			return false
		}
	}
}
