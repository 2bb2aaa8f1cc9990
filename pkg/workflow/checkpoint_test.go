package workflow_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lockbox-ssh/lockbox/pkg/audit"
	"github.com/lockbox-ssh/lockbox/pkg/workflow"
)

// memSink keeps what a Checkpointer writes.
type memSink struct {
	mu   sync.Mutex
	got  []audit.SignedCheckpoint
	fail error
}

func (m *memSink) Write(sc audit.SignedCheckpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.got = append(m.got, sc)
	return nil
}

func (e *env) checkpointer(sink workflow.CheckpointSink) (*workflow.Checkpointer, ssh.Signer) {
	e.t.Helper()
	k := newSigner(e.t)
	c, err := e.svc.NewCheckpointer(k, sink)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, k
}

// The periodic checkpoint states the head as the store has it, signed by
// the audit key, and an idle log gets no new one.
func TestTickSignsTheHeadAndSkipsAnUnmovedOne(t *testing.T) {
	e := newEnv(t, nil)
	sink := &memSink{}
	cp, key := e.checkpointer(sink)
	if cp.Latest() != nil {
		t.Fatal("a checkpoint before the first tick")
	}
	first, err := cp.Tick(ctx)
	if err != nil || first == nil || first.Seq != 0 || !bytes.Equal(first.Hash, audit.Genesis) {
		t.Fatalf("first tick on an empty log: %+v %v", first, err)
	}
	e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	rows := e.auditRows()
	e.clock.Advance(time.Minute)
	second, err := cp.Tick(ctx)
	if err != nil || second == nil {
		t.Fatalf("tick after the log moved: %v", err)
	}
	last := rows[len(rows)-1]
	if second.Seq != last.Seq || !bytes.Equal(second.Hash, last.Hash) || !second.Time.Equal(e.clock.Now()) {
		t.Fatalf("checkpoint %s %x, head %d %x", second.Checkpoint, second.Hash, last.Seq, last.Hash)
	}
	if err := second.Verify(key.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if again, err := cp.Tick(ctx); err != nil || again != nil {
		t.Fatalf("tick on an unmoved head signed %+v (%v)", again, err)
	}
	if len(sink.got) != 2 || cp.Latest().Seq != last.Seq {
		t.Fatalf("sink has %d, latest %v", len(sink.got), cp.Latest().Checkpoint)
	}
	if n := len(e.auditRows()); n != len(rows) {
		t.Fatalf("periodic checkpoints added %d audit rows", n-len(rows))
	}
}

// On demand: auditors only; the checkpoint and the refusal are audited.
func TestSignNowIsForAuditorsAndAudited(t *testing.T) {
	e := newEnv(t, nil)
	sink := &memSink{}
	cp, key := e.checkpointer(sink)
	e.submit("alice", "reader", []string{"db-1"}, time.Hour, "")
	before := e.auditRows()
	sc, err := cp.SignNow(ctx, user("erin"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seq != before[len(before)-1].Seq || sc.Verify(key.PublicKey()) != nil || len(sink.got) != 1 {
		t.Fatalf("checkpoint %s, head %d, sink %d", sc.Checkpoint, before[len(before)-1].Seq, len(sink.got))
	}
	after := e.auditRows()
	if got := after[len(after)-1]; got.Action != "checkpoint.signed" || got.Actor != "user:erin" || got.Seq != sc.Seq+1 {
		t.Fatalf("last audit row %+v", got)
	}
	for _, who := range []workflow.Actor{user("alice"), workflow.BastionActor("bastion-1")} {
		if _, err := cp.SignNow(ctx, who); !errors.Is(err, workflow.ErrForbidden) {
			t.Fatalf("%s: %v", who, err)
		}
	}
	refused := 0
	for _, r := range e.auditRows() {
		if r.Action == "checkpoint.refused" {
			refused++
		}
	}
	if refused != 2 || len(sink.got) != 1 {
		t.Fatalf("%d refusals audited, sink has %d", refused, len(sink.got))
	}
}

// A checkpoint that cannot be kept is an error the CA logs, not silence.
func TestCheckpointSinkFailureIsReported(t *testing.T) {
	e := newEnv(t, nil)
	sink := &memSink{fail: errors.New("disk full")}
	cp, _ := e.checkpointer(sink)
	if _, err := cp.Tick(ctx); err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
		t.Fatalf("tick with a failing sink: %v", err)
	}
	if _, err := cp.SignNow(ctx, user("erin")); err == nil {
		t.Fatal("SignNow with a failing sink succeeded")
	}
}

func TestAuditKeyMustNotBeACAKey(t *testing.T) {
	e := newEnv(t, nil)
	for _, k := range []ssh.Signer{e.cas.user, e.cas.hop, e.cas.host} {
		if _, err := e.svc.NewCheckpointer(k, nil); err == nil {
			t.Fatal("a CA key was accepted as the audit key")
		}
	}
}
