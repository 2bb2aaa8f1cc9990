package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/notify"
	"github.com/lockbox-ssh/lockbox/pkg/notify/channel"
	"github.com/lockbox-ssh/lockbox/pkg/notify/render"
)

// receiver is the Go example of docs/notifications.md: a webhook receiver
// that checks the signature over the raw body with a bounded timestamp,
// and acts once per idempotency key.
type receiver struct {
	secret []byte // the endpoint's signing secret, from a file or the environment
	mu     sync.Mutex
	seen   map[string]bool // keep this in your database in production
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	// Verify the raw bytes, before parsing anything.
	if err := notify.Verify(rc.secret, r.Header.Get(notify.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var msg render.WebhookBody
	if err := json.Unmarshal(body, &msg); err != nil || msg.Schema != render.WebhookSchema {
		http.Error(w, "unexpected body", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen[msg.ID] { // a repeat: Lockbox delivers at least once
		w.WriteHeader(http.StatusOK)
		return
	}
	rc.seen[msg.ID] = true
	fmt.Fprintf(os.Stdout, "%s for request %s\n", msg.Event, msg.Request.ID)
	w.WriteHeader(http.StatusNoContent)
}

func ExampleVerify() {
	secret := []byte("3f9c2a7e1b5d48c6a0e2f4b6d8c1a3e5")
	body := []byte(`{"schema":"lockbox.notification.v1","id":"request.pending-1"}`)
	sent := time.Unix(1_800_000_000, 0)
	header := notify.Sign(secret, body, sent)

	fmt.Println(notify.Verify(secret, header, body, sent.Add(time.Minute), 5*time.Minute))
	fmt.Println(notify.Verify(secret, header, body, sent.Add(time.Hour), 5*time.Minute) != nil)
	// Output:
	// <nil>
	// true
}

func Example_receiver() {
	secret := "3f9c2a7e1b5d48c6a0e2f4b6d8c1a3e5"
	srv := httptest.NewServer(&receiver{secret: []byte(secret), seen: map[string]bool{}})
	defer srv.Close()

	os.Setenv("EXAMPLE_HOOK_SECRET", secret)
	hook, err := channel.New(channel.Endpoint{
		Name: "example", Kind: channel.Webhook, URL: srv.URL, AllowPlainHTTP: true,
		Secret: "env:EXAMPLE_HOOK_SECRET",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := &notify.Message{
		Key: notify.NewKey(notify.RequestPending, "req-1", "carol"), Kind: notify.RequestPending, Time: time.Now(),
		To:      []notify.Recipient{{Name: "carol"}},
		Request: &notify.Request{ID: "req-1", Requester: "alice", Role: notify.Role{Name: "db-admin", Login: "postgres"}},
	}
	// Delivered twice (at least once), acted on once.
	fmt.Println(hook.Deliver(context.Background(), m), hook.Deliver(context.Background(), m))
	// Output:
	// request.pending for request req-1
	// <nil> <nil>
}
