package bastion

import (
	"bytes"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/recording"
)

// scriptedReader returns reads of the given sizes, at most as much as the
// caller's buffer holds, and logs the size of each buffer it was given.
type scriptedReader struct {
	sizes []int
	next  byte
	bufs  []int
}

func (r *scriptedReader) Read(p []byte) (int, error) {
	if len(r.sizes) == 0 {
		return 0, io.EOF
	}
	r.bufs = append(r.bufs, len(p))
	n := min(r.sizes[0], len(p))
	if r.sizes[0] -= n; r.sizes[0] == 0 {
		r.sizes = r.sizes[1:]
	}
	for i := range p[:n] {
		p[i] = 'a' + r.next%26
		r.next++
	}
	return n, nil
}

// pump reads into its small buffer while data trickles, into bulk buffers
// from a read that fills the small one for as long as the data read since
// ends on a full packet, and goes back to the small buffer after the read
// that ends a burst; what it relays and records is what it read.
func TestPumpStaysOnBulkReadsWhileDataEndsOnFullPackets(t *testing.T) {
	path, w := newTestRecording(t)
	rec := newRecorder(w, func(err error) { t.Error(err) })
	src := &scriptedReader{sizes: []int{
		100,                   // trickle: small
		smallBuf,              // fills the small buffer: bulk next
		fullPacket - smallBuf, // the rest of that packet: a full packet, stay bulk
		2 * fullPacket,        // whole packets queued: stay bulk
		bigBuf,                // a full bulk buffer: stay bulk
		fullPacket / 2,        // the end of the burst: small next
		50,                    // trickle again
		smallBuf, fullPacket,  // 512 + 32 KiB is no whole number of packets: small next
		10,
	}}
	want := []int{smallBuf, smallBuf, bigBuf, bigBuf, bigBuf, bigBuf, smallBuf, smallBuf, bigBuf, smallBuf}
	total := 0
	for _, n := range src.sizes {
		total += n
	}
	var dst bytes.Buffer
	if err := pump(&dst, src, rec, 'o', nil); err != io.EOF {
		t.Fatalf("pump returned %v, want io.EOF", err)
	}
	rec.close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.bufs, want) {
		t.Errorf("pump read into buffers of %v bytes, want %v", src.bufs, want)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	got, err := recording.Read(in, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Len() != total {
		t.Errorf("relayed %d bytes, read %d", dst.Len(), total)
	}
	if out := recording.Output(got); !bytes.Equal(out, dst.Bytes()) {
		t.Errorf("recorded %d bytes of output, relayed %d: they differ", len(out), dst.Len())
	}
}
