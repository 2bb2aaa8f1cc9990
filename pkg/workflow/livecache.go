package workflow

import (
	"hash/fnv"
	"sync"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// liveCache keeps recently read live chunks in this replica's memory, so
// that many watchers of one session cost the store one read of each
// chunk's data. A stored chunk never changes (it is keyed by session and
// offset, and a session ID is never reused), so nothing needs
// invalidating: pruned chunks are simply never asked for again and age
// out, oldest first, beyond liveCacheBytes.
type liveCache struct {
	mu    sync.Mutex
	data  map[liveKey][]byte
	order []liveKey
	size  int
	// fetch serialises the store reads of chunks the cache misses, by
	// session (see liveChunks).
	fetch [16]sync.Mutex
}

type liveKey struct {
	session string
	offset  int64
}

const liveCacheBytes = 32 << 20

func (c *liveCache) get(session string, s store.LiveSpan) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.data[liveKey{session, s.Offset}]
	return d, ok && int64(len(d)) == s.Length
}

func (c *liveCache) put(chunks []store.LiveChunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		c.data = map[liveKey][]byte{}
	}
	for _, ch := range chunks {
		k := liveKey{ch.SessionID, ch.Offset}
		if _, ok := c.data[k]; ok {
			continue
		}
		c.data[k] = ch.Data
		c.order = append(c.order, k)
		c.size += len(ch.Data)
	}
	for c.size > liveCacheBytes && len(c.order) > 0 {
		k := c.order[0]
		c.order = c.order[1:]
		c.size -= len(c.data[k])
		delete(c.data, k)
	}
}

// liveChunks returns what tx.LiveChunks would, from the cache when it
// holds every chunk. Readers that miss at once (the watchers of a session
// woken by the same report) read the chunks from the store one at a
// time, so that the first one's read fills the cache for the others.
func (s *Service) liveChunks(tx store.Tx, session string, after int64, limit int) ([]store.LiveChunk, error) {
	spans, err := tx.LiveSpans(session, after, limit)
	if err != nil {
		return nil, err
	}
	if out, ok := s.live.all(session, spans); ok {
		return out, nil
	}
	mu := s.live.fetching(session)
	mu.Lock()
	defer mu.Unlock()
	if out, ok := s.live.all(session, spans); ok {
		return out, nil // another reader read them meanwhile
	}
	chunks, err := tx.LiveChunks(session, after, limit)
	if err != nil {
		return nil, err
	}
	s.live.put(chunks)
	return chunks, nil
}

// all returns session's chunks at spans if the cache holds every one.
func (c *liveCache) all(session string, spans []store.LiveSpan) ([]store.LiveChunk, bool) {
	out := make([]store.LiveChunk, 0, len(spans))
	for _, sp := range spans {
		d, ok := c.get(session, sp)
		if !ok {
			return nil, false
		}
		out = append(out, store.LiveChunk{SessionID: session, Offset: sp.Offset, Data: d})
	}
	return out, true
}

// fetching is the lock readers of session take to read its chunks from
// the store (one of a few, shared by sessions whose IDs hash alike).
func (c *liveCache) fetching(session string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(session)) //nolint:errcheck // a hash never fails
	return &c.fetch[h.Sum32()%uint32(len(c.fetch))]
}
