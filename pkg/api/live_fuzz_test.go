package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzLiveReport sends arbitrary bastion reports and read queries: never
// a 5xx, and whatever was reported, a watcher's read stays consistent
// (its data is exactly the span from offset to next, and next never goes
// back).
func FuzzLiveReport(f *testing.F) {
	for _, seed := range []string{
		`{"sessions":[{"session":"SESS","offset":0,"data":"aGVsbG8="}]}`,
		`{"sessions":[{"session":"SESS","offset":3,"data":"bG8gd29ybGQ="}]}`,
		`{"sessions":[{"session":"SESS","offset":-1,"data":"eA=="}]}`,
		`{"sessions":[{"session":"SESS","offset":9223372036854775807,"data":"eA=="}]}`,
		`{"sessions":[{"session":"SESS","offset":5,"data":"not base64"}]}`,
		`{"sessions":[{"session":"sess-aaaaaaaaaaaaaaaa","offset":0,"data":"eA=="}]}`,
		`{"sessions":[{"session":"../x","offset":0}]}`,
		`{"sessions":[{"session":"SESS","offset":0,"last_input":"2026-11-23T10:00:00Z"}]}`,
		`{"sessions":[{"session":"SESS","session":"SESS","offset":0}]}`,
		`{"sessions":null}`, `{}`, `[]`, `{"Sessions":[]}`,
	} {
		f.Add(seed, "0", "0s")
	}
	f.Add(`{}`, "-1", "50ms")
	f.Add(`{}`, "-2", "x")
	f.Add(`{}`, "99999999999999999999", "-1s")
	s, id := liveServer(f)
	grace := s.client(f, "user:grace")
	w, err := grace.StartWatch(ctx, id, "cli")
	if err != nil {
		f.Fatal(err)
	}
	next := int64(0)
	f.Fuzz(func(t *testing.T, body, after, wait string) {
		body = strings.ReplaceAll(body, "SESS", id)
		resp, b := rawCall(t, s, "bastion:bastion-1", http.MethodPost, "/v1/bastion/live", []byte(body))
		if resp.StatusCode >= 500 {
			t.Fatalf("report %q: %d %s", body, resp.StatusCode, b)
		}
		q := url.Values{"watch": {w.ID}, "after": {after}, "wait": {wait}}
		resp, b = rawCall(t, s, "user:grace", http.MethodGet, "/v1/sessions/"+id+"/live?"+q.Encode(), nil)
		if resp.StatusCode >= 500 {
			t.Fatalf("read after=%q wait=%q: %d %s", after, wait, resp.StatusCode, b)
		}
		out, err := grace.ReadLive(ctx, id, w.ID, next, 0)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(out.Data)) != out.Next-out.Offset || out.Offset < next || out.Skipped != out.Offset-next {
			t.Fatalf("read after %d: offset %d, next %d, %d bytes, skipped %d", next, out.Offset, out.Next, len(out.Data), out.Skipped)
		}
		next = out.Next
	})
}
