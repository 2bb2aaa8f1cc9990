package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/web"
)

// The player learns from the cast whether the session ran on a terminal:
// output without one holds bare line feeds, which it must show from
// column 0 as a terminal's line discipline would.
func TestCastTellsThePlayerWhetherTheSessionHadATerminal(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		want         bool
	}{
		{"exec without a terminal", `{"version":2,"width":80,"height":24,"lockbox":{"terminal":false}}`, false},
		{"shell on a terminal", `{"version":2,"width":80,"height":24,"env":{"TERM":"xterm"},"lockbox":{"terminal":true}}`, true},
		{"older recording without a terminal", `{"version":2,"width":80,"height":24}`, false},
		{"older recording on a terminal", `{"version":2,"width":80,"height":24,"env":{"TERM":"xterm"}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, web.Config{})
			f.person("alice")
			b := f.browser()
			b.login("alice")
			id := f.recordedSessionWithHeader("alice", tc.header, "a\nb\n")
			cast := b.get("/ui/sessions/" + id + "/cast")
			if cast.status != http.StatusOK {
				t.Fatalf("cast: %d", cast.status)
			}
			first, _, _ := strings.Cut(cast.body, "\n")
			var h struct {
				Terminal *bool `json:"terminal"`
			}
			if err := json.Unmarshal([]byte(first), &h); err != nil || h.Terminal == nil {
				t.Fatalf("header %s: %v", first, err)
			}
			if *h.Terminal != tc.want {
				t.Fatalf("header %s says terminal %v, want %v", first, *h.Terminal, tc.want)
			}
		})
	}
}
