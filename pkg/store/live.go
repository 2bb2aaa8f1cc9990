package store

import "time"

// LiveChunk is a piece of a running session's output, at its byte offset
// in the session's output stream (what the target sent the client).
type LiveChunk struct {
	SessionID string
	Offset    int64
	Data      []byte
	At        time.Time // when the bastion received it
}

// End is the offset just after the chunk.
func (c LiveChunk) End() int64 { return c.Offset + int64(len(c.Data)) }

// LiveSpan is where a stored chunk lies in a session's output. A chunk
// never changes once stored, so a reader may keep its data by span.
type LiveSpan struct {
	Offset, Length int64
}

// LiveState is what the CA knows of a running session's live stream, as
// its bastion last reported it.
type LiveState struct {
	SessionID string
	End       int64     // offset after the last byte received
	LastInput time.Time // the user's last keystroke, as the bastion saw it
	Updated   time.Time // the bastion's last report
	// A watcher who ended the session: who, why and when. The bastion
	// learns it from the answer to its next report.
	StopBy     string
	StopReason string
	StopAt     time.Time
}

// LiveWatch is one person watching one session, through one client ("web"
// or "cli"); Seen is their last read.
type LiveWatch struct {
	ID        string
	SessionID string
	Watcher   string
	Via       string
	Started   time.Time
	Seen      time.Time
}

// LiveTx is what a transaction can do for live view. Every CA replica
// shares these rows, so a watcher on one replica reads what a bastion
// reported to another.
type LiveTx interface {
	// AddLiveChunk stores c; ErrDuplicate if a chunk at its offset is
	// stored already (a report the bastion sent again).
	AddLiveChunk(c LiveChunk) error
	// LiveChunks returns up to limit chunks of session that end after
	// offset after, in order.
	LiveChunks(sessionID string, after int64, limit int) ([]LiveChunk, error)
	// LiveSpans is LiveChunks without the data: each chunk's offset and
	// length (Data nil, Length set), for a reader that keeps chunks.
	LiveSpans(sessionID string, after int64, limit int) ([]LiveSpan, error)
	// PruneLiveChunks deletes session's chunks that end at or before end.
	PruneLiveChunks(sessionID string, end int64) error
	// PutLiveState stores st, replacing the session's earlier state.
	PutLiveState(st *LiveState) error
	// LiveState returns a session's state; ErrNotFound if it has none.
	LiveState(sessionID string) (*LiveState, error)
	// LiveStates returns every session's state, by session ID.
	LiveStates() ([]*LiveState, error)
	// DeleteStaleLive deletes the state, chunks and watches of sessions
	// whose bastion last reported before before.
	DeleteStaleLive(before time.Time) error

	// AddLiveWatch stores w; ErrDuplicate on a reused ID.
	AddLiveWatch(w *LiveWatch) error
	// LiveWatch returns a watch; ErrNotFound if it is gone.
	LiveWatch(id string) (*LiveWatch, error)
	// TouchLiveWatch records a read; ErrNotFound if the watch is gone.
	TouchLiveWatch(id string, seen time.Time) error
	DeleteLiveWatch(id string) error
	// LiveWatches returns the watches of session ("" for every session),
	// oldest first.
	LiveWatches(sessionID string) ([]*LiveWatch, error)
}
