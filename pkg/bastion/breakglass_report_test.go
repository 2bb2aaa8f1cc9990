package bastion

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lockbox-ssh/lockbox/pkg/client"
	"github.com/lockbox-ssh/lockbox/pkg/recording"
	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// glassCA takes or refuses break-glass reports and records them and the
// uploads.
type glassCA struct {
	*fakeCA
	mu      sync.Mutex
	refuse  bool
	reports []wire.BreakGlassSession
	uploads []string
}

func (g *glassCA) ReportBreakGlassSession(_ context.Context, in wire.BreakGlassSession) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reports = append(g.reports, in)
	if g.refuse {
		return &client.Error{Status: 403, Code: "break_glass_refused", Message: "break-glass session report refused"}
	}
	return nil
}

func (g *glassCA) UploadRecording(_ context.Context, id string, _ io.ReadSeeker) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.uploads = append(g.uploads, id)
	return nil
}

// spoolGlassSession leaves in spool what an ended break-glass session
// leaves: its recording, its end and its note.
func spoolGlassSession(t *testing.T, spool *recording.Spool, id string, note recording.BreakGlass, end recording.End) {
	t.Helper()
	w, err := spool.Create(id, recording.Header{Width: 80, Height: 24}, recording.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := spool.WriteBreakGlass(id, note); err != nil {
		t.Fatal(err)
	}
	if err := spool.WriteEnd(id, end); err != nil {
		t.Fatal(err)
	}
}

// An ended break-glass session left in the spool is reported with the
// note and end kept beside it, then uploaded, and the spool emptied of
// it; one the CA refuses keeps its files and is not sent again by this
// bastion.
func TestBreakGlassSessionInTheSpoolIsReportedThenUploaded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	spool := openSpool(t, dir)
	ca := &glassCA{fakeCA: &fakeCA{}}
	srv, err := New(Config{Name: "b1", HostKey: newKey(t), UserCA: newKey(t).PublicKey(), HostCA: newKey(t).PublicKey(),
		CA: ca, Spool: spool, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	zero := 0
	note := recording.BreakGlass{Certificate: "ssh-ed25519-cert-v01@openssh.com AAAA", ClientAddr: "192.0.2.7:5000", Command: "df -h", Start: start}
	end := recording.End{Time: start.Add(time.Minute), Reason: "the command exited", ExitStatus: &zero}
	refused, taken := "bg-00000000000000000000000a", "bg-00000000000000000000000b"

	ca.refuse = true
	spoolGlassSession(t, spool, refused, note, end)
	srv.UploadPending(context.Background())
	srv.UploadPending(context.Background())
	if len(ca.reports) != 1 || len(ca.uploads) != 0 {
		t.Fatalf("a refused report: %d reports (want 1, not sent again), %d uploads", len(ca.reports), len(ca.uploads))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, refused+"*")); len(left) != 3 {
		t.Fatalf("a refused report's files in the spool: %v, want the recording, end and note", left)
	}

	ca.refuse = false
	spoolGlassSession(t, spool, taken, note, end)
	srv.UploadPending(context.Background())
	got := ca.reports[len(ca.reports)-1]
	want := wire.BreakGlassSession{SessionID: taken, Certificate: note.Certificate, ClientAddr: note.ClientAddr, Command: "df -h",
		StartedAt: start, EndedAt: end.Time, EndReason: end.Reason, ExitStatus: &zero}
	if got.SessionID != want.SessionID || got.Certificate != want.Certificate || got.ClientAddr != want.ClientAddr ||
		got.Command != want.Command || !got.StartedAt.Equal(start) || !got.EndedAt.Equal(end.Time) || got.EndReason != want.EndReason ||
		got.ExitStatus == nil || *got.ExitStatus != 0 {
		t.Fatalf("report %+v, want %+v", got, want)
	}
	if len(ca.uploads) != 1 || ca.uploads[0] != taken {
		t.Fatalf("uploads %v, want %s", ca.uploads, taken)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, taken+"*")); len(left) != 0 {
		t.Fatalf("the spool keeps %v after the report and the upload", left)
	}
}
