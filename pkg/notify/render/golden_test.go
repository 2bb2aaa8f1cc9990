package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/dir/name, or rewrites it with -update.
func golden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", dir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// cases are every kind's message and the hostile one, by file name.
func cases() map[string]*notify.Message {
	c := map[string]*notify.Message{"hostile": hostileMessage()}
	for kind, m := range messages() {
		c[string(kind)] = m
	}
	return c
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return append(out.Bytes(), '\n')
}

func TestEveryKindHasAMessageInTheFixtures(t *testing.T) {
	m := messages()
	for _, k := range notify.Kinds {
		if m[k] == nil {
			t.Errorf("no fixture for %s", k)
		}
	}
}

func TestRenderersMatchTheirGoldenFiles(t *testing.T) {
	renderers := map[string]func(*notify.Message) ([]byte, error){
		"webhook": Webhook,
		"slack":   Slack,
		"teams":   Teams,
	}
	for name, m := range cases() {
		for dir, render := range renderers {
			t.Run(dir+"/"+name, func(t *testing.T) {
				b, err := render(m)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, dir, name+".json", indentJSON(t, b))
			})
		}
		t.Run("email/"+name, func(t *testing.T) {
			e, err := Email(m)
			if err != nil {
				t.Fatal(err)
			}
			head := "Subject: " + e.Subject + "\nTo: " + strings.Join(e.To, ", ") + "\n\n"
			golden(t, "email", name+".txt", []byte(head+e.Text))
			golden(t, "email", name+".html", []byte(e.HTML))
		})
	}
}

func TestRenderersRefuseAnInvalidMessage(t *testing.T) {
	m := messages()[notify.RequestPending]
	m.Key = "bad key"
	for name, render := range map[string]func(*notify.Message) ([]byte, error){"webhook": Webhook, "slack": Slack, "teams": Teams} {
		if _, err := render(m); err == nil {
			t.Errorf("%s rendered an invalid message", name)
		}
	}
	if _, err := Email(m); err == nil {
		t.Error("Email rendered an invalid message")
	}
}
