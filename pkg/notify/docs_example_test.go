package notify_test

import (
	"os"
	"strings"
	"testing"
)

// The Go receiver docs/notifications.md shows is the one Example_receiver
// runs, but for the line where a receiver acts on the message.
func TestTheDocumentedGoReceiverIsTheTestedOne(t *testing.T) {
	doc, err := os.ReadFile("../../docs/notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```go\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/notifications.md has no Go block")
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	tested := strings.Replace(block, "\t// ... act on msg ...\n", "\tfmt.Fprintf(os.Stdout, \"%s for request %s\\n\", msg.Event, msg.Request.ID)\n", 1)
	if !strings.Contains(string(src), tested) {
		t.Errorf("the Go block of docs/notifications.md is not example_test.go's receiver:\n%s", block)
	}
}
