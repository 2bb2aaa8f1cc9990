package web_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// A recording changed in the store after it was stored is not played:
// the player gets an error page saying so, and none of the recording.
func TestAChangedRecordingIsNotPlayed(t *testing.T) {
	for name, compress := range map[string]bool{"plain": false, "gzip": true} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, web.Config{})
			f.person("alice")
			id := f.recordedSession("alice", "original output\r\n")
			f.recs.mu.Lock()
			changed := bytes.Replace(f.recs.data[id], []byte("original"), []byte("replaced"), 1)
			if compress {
				var buf bytes.Buffer
				z := gzip.NewWriter(&buf)
				z.Write(changed) //nolint:errcheck // a bytes.Buffer
				z.Close()
				changed = buf.Bytes()
			}
			f.recs.data[id] = changed
			f.recs.mu.Unlock()
			b := f.browser()
			b.login("alice")
			cast := b.get("/ui/sessions/" + id + "/cast")
			if cast.status != http.StatusInternalServerError || !strings.Contains(cast.body, "does not match") || strings.Contains(cast.body, "replaced") {
				t.Fatalf("cast of a changed recording: %d\n%s", cast.status, cast.body)
			}
		})
	}
}
