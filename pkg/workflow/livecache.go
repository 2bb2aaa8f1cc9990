package workflow

import (
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
// holds every chunk.
func (s *Service) liveChunks(tx store.Tx, session string, after int64, limit int) ([]store.LiveChunk, error) {
	spans, err := tx.LiveSpans(session, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]store.LiveChunk, 0, len(spans))
	for _, sp := range spans {
		d, ok := s.live.get(session, sp)
		if !ok {
			chunks, err := tx.LiveChunks(session, after, limit)
			if err != nil {
				return nil, err
			}
			s.live.put(chunks)
			return chunks, nil
		}
		out = append(out, store.LiveChunk{SessionID: session, Offset: sp.Offset, Data: d})
	}
	return out, nil
}
