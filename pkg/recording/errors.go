package recording

import "errors"

// Errors writing a recording.
var (
	ErrClosed  = errors.New("recording: writer closed")
	ErrBadSize = errors.New("recording: terminal size out of range")
	// ErrBadValue: a signal name that is not one.
	ErrBadValue = errors.New("recording: invalid event value")
)

// Errors reading a recording.
var (
	ErrBadHeader = errors.New("recording: invalid header")
	ErrBadEvent  = errors.New("recording: invalid event")
	ErrTooLarge  = errors.New("recording: larger than the size limit")
)

// Errors from a [Spool].
var (
	ErrBadSessionID = errors.New("recording: invalid session ID")
	ErrSpoolMode    = errors.New("recording: spool directory is writable by group or other")
	ErrSessionOpen  = errors.New("recording: session is still being recorded")
)
