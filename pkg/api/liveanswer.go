package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// A live read's answer is most of the CA's cost of a watcher (its output
// in base64, up to 256 KiB of it), and every watcher of a session on a
// replica asks for the same: they wake on the same report, at the same
// offset. So the answer is written by hand (the bytes encodeJSON would
// write, without its reflection and second, indenting, pass over the
// output) and the last one per session is kept: the output between two
// offsets of a session never changes (chunks are stored once, by offset,
// and a session ID is never reused), so an answer with the same offsets,
// skip, end and watchers is the same answer.

// liveAnswers keeps the last encoded read answer of each session.
type liveAnswers struct {
	mu   sync.Mutex
	last map[string]liveAnswer
	size int // bytes of the answers in last
}

type liveAnswer struct {
	key  liveAnswerKey
	body []byte
}

// liveAnswerKey is what, with the session, determines a read's answer.
type liveAnswerKey struct {
	offset, next, skipped int64
	null, ended           bool // null: no data (rather than none yet)
	endReason, watchers   string
}

// maxLiveAnswerBytes bounds the answers kept (about 45 of the largest,
// each session's last); past it, they are all let go.
const maxLiveAnswerBytes = 16 << 20

func keyOf(o *wire.LiveOutput) liveAnswerKey {
	return liveAnswerKey{o.Offset, o.Next, o.Skipped, o.Data == nil, o.Ended, o.EndReason, strings.Join(o.Watchers, "\x00")}
}

// encoded returns session's answer o, encoded once for every watcher
// who asks for the same.
func (c *liveAnswers) encoded(session string, o *wire.LiveOutput) []byte {
	if int64(len(o.Data)) != o.Next-o.Offset {
		return encodeLiveOutput(o) // not a plain slice of the stream: never shared
	}
	k := keyOf(o)
	c.mu.Lock()
	if a, ok := c.last[session]; ok && a.key == k {
		c.mu.Unlock()
		return a.body
	}
	c.mu.Unlock()
	body := encodeLiveOutput(o)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size -= len(c.last[session].body)
	if c.last == nil || c.size+len(body) > maxLiveAnswerBytes {
		c.last, c.size = map[string]liveAnswer{}, 0
	}
	c.last[session] = liveAnswer{k, body}
	c.size += len(body)
	return body
}

// writeLive writes a read's answer as writeJSON would.
func (s *Server) writeLive(w http.ResponseWriter, session string, o *wire.LiveOutput) {
	body := s.liveAnswers.encoded(session, o)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body) //nolint:errcheck // the client went away; nothing to do
}

// encodeLiveOutput is encodeJSON(o), byte for byte.
func encodeLiveOutput(o *wire.LiveOutput) []byte {
	b := make([]byte, 0, 128+base64.StdEncoding.EncodedLen(len(o.Data)))
	b = append(b, "{\n  \"offset\": "...)
	b = strconv.AppendInt(b, o.Offset, 10)
	b = append(b, ",\n  \"data\": "...)
	if o.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, o.Data)
		b = append(b, '"')
	}
	b = append(b, ",\n  \"next\": "...)
	b = strconv.AppendInt(b, o.Next, 10)
	if o.Skipped != 0 {
		b = append(b, ",\n  \"skipped\": "...)
		b = strconv.AppendInt(b, o.Skipped, 10)
	}
	if o.Ended {
		b = append(b, ",\n  \"ended\": true"...)
	}
	if o.EndReason != "" {
		b = append(b, ",\n  \"end_reason\": "...)
		b = appendJSONString(b, o.EndReason)
	}
	if len(o.Watchers) > 0 {
		b = append(b, ",\n  \"watchers\": ["...)
		for i, name := range o.Watchers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n    "...)
			b = appendJSONString(b, name)
		}
		b = append(b, "\n  ]"...)
	}
	return append(b, "\n}\n"...)
}

// appendJSONString appends v as encoding/json writes a string.
func appendJSONString(b []byte, v string) []byte {
	q, err := json.Marshal(v)
	if err != nil {
		panic(err) // a string always encodes
	}
	return append(b, q...)
}
