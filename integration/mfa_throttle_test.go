package integration

import (
	"strings"
	"testing"
)

// Through the bastion, from one address (everyone here is 127.0.0.1, as
// an office behind one NAT is): alice's wrong codes throttle alice, not
// bob.
func TestWrongCodesOfOnePersonDoNotLockOutTheirNeighbours(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	b := w.bastion(nil)
	w.enroll("alice")
	w.enroll("bob")
	_, aliceKey := w.grant("alice", "admin", "1h")
	_, bobKey := w.grant("bob", "admin", "1h")
	for i := range 5 {
		if r := w.run(b, aliceKey, "000000", nil, "true"); r.code == 0 {
			t.Fatalf("wrong code %d let alice in", i)
		}
	}
	// Right after alice's fifth failure (her block of a second has begun;
	// the workflow's tests check it with a stopped clock).
	r := w.run(b, bobKey, w.code("bob", 0), nil, "echo", "bob is in")
	if r.code != 0 || !strings.Contains(r.stdout, "bob is in") {
		t.Fatalf("bob, from the address alice failed from: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
