package recstore_test

import (
	"io"
	"testing"

	"github.com/lockbox-ssh/lockbox/internal/versitygwtest"
)

// patternReader yields n bytes without holding them.
type patternReader struct{ n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n))
	for i := range b[:k] {
		b[i] = byte(i)
	}
	p.n -= int64(k)
	return k, nil
}

// BenchmarkPut stores recordings of 8 and 64 MiB in each store. B/op
// shows what one upload allocates: for S3 a few part buffers (5 MiB
// each) whatever the recording's size, never the recording.
func BenchmarkPut(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(t testing.TB) backend
		size int64
	}{
		{"dir/8MiB", dirBackend, 8 << 20},
		{"dir/64MiB", dirBackend, 64 << 20},
		{"s3/8MiB", s3Open, 8 << 20},
		{"s3/64MiB", s3Open, 64 << 20},
	} {
		size := c.size
		b.Run(c.name, func(b *testing.B) {
			be := c.open(b)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := be.store.Put("sess-bench", &patternReader{n: size}, 1<<30); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func s3Open(t testing.TB) backend {
	return s3Backend(t, versitygwtest.Start(t, versitygwtest.Options{}))
}
