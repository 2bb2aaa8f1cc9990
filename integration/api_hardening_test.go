package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// 10,000 anonymous calls to a running CA add a few audit rows (one per
// source address per anonymous_audit_interval, with the count), not one
// row each.
func TestAnonymousFloodAddsOneAuditRowPerInterval(t *testing.T) {
	c := newCA(t, "sqlite")
	c.writePolicy(nil)
	c.start("--anonymous_audit_interval", "1s")
	started := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				resp, err := http.Get(c.url + "/v1/whoami")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("anonymous whoami: %d", resp.StatusCode)
				}
			}
		}()
	}
	for i := range 10000 {
		work <- i
	}
	close(work)
	wg.Wait()
	seconds := int(time.Since(started)/time.Second) + 1

	// Wait for the last interval's flush, then count.
	var rows, summaries int
	var counted int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, summaries, counted = 0, 0, 0
		for _, line := range strings.Split(strings.TrimSpace(c.ok("erin", "--json", "audit")), "\n") {
			if line == "" {
				continue
			}
			var r wire.AuditRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("audit line %q: %v", line, err)
			}
			rows++
			if r.Action == "anonymous.refused" {
				summaries++
				n, _ := r.Detail["count"].(float64)
				counted += int64(n)
			}
		}
		if counted >= 10000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling the CA's audit log for the flush
	}
	t.Logf("10,000 anonymous calls in about %ds: %d audit rows, %d of them summaries, counting %d refusals", seconds, rows, summaries, counted)
	if counted != 10000 || rows != summaries || summaries > seconds+2 {
		t.Fatalf("10,000 anonymous calls in about %ds left %d audit rows (%d summaries counting %d); want at most %d summaries counting 10000 and nothing else",
			seconds, rows, summaries, counted, seconds+2)
	}
}
