package recording

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// Recordings are stored gzip-compressed: a terminal session compresses
// several times over, and binary output, which JSON inflates up to six
// times (a zero byte is written \u0000), a hundred times or more. Without
// it, recording bulk output is bound by the disk.
//
// A Writer compresses each batch of events as a gzip member of its own
// (RFC 1952 allows any number, and gzip tools and readers decompress them
// as one stream). So no session holds a compressor between batches, an
// idle session holds none at all, and every batch flushed to the file is
// complete: a crash can cut only the last one.

// memberSize is how much encoded event data a Writer gathers before it
// compresses it as one member, if its flush interval does not come first.
// Deflate looks back only 32 KiB, so larger members would compress
// little better.
const memberSize = 128 << 10

// Members are compressed with BestSpeed while that pays. Output that does
// not compress (already compressed or encrypted data, such as an exec
// session running `cat backup.tar.gz`) would cost several times more CPU
// that way than relaying it does, so once a member shrinks less than
// poorRatio times, a Writer codes the next cheapRun members with Huffman
// coding alone (no search for repeats), then tries BestSpeed again. Only
// members of judgeSize or more are judged: a small one shrinks little
// whatever it holds. A member that is mostly byte events (base64, see
// Writer.bytesEvent) and shrank less than storeRatio/(storeRatio-1) times
// (1.5) holds random bytes, which Huffman coding would shrink by a quarter
// at most (base64 uses six bits of each eight) for most of the Writer's
// CPU: the next cheapRun such members are stored as they are.
const (
	poorRatio  = 3
	cheapRun   = 16
	judgeSize  = 16 << 10
	storeRatio = 3
)

// compressors are shared by all Writers, one free list per level: a
// compressor's state is several hundred KiB, held by a Writer only while
// it compresses a member. The lists keep a few compressors across garbage
// collections (a sync.Pool would drop them, and remaking them costs more
// than the members they compress); more are made when more Writers
// compress at once, and dropped when the list is full.
var compressors = map[int]*compressorList{
	gzip.BestSpeed:     {level: gzip.BestSpeed, free: make(chan *gzip.Writer, keptCompressors)},
	gzip.HuffmanOnly:   {level: gzip.HuffmanOnly, free: make(chan *gzip.Writer, keptCompressors)},
	gzip.NoCompression: {level: gzip.NoCompression, free: make(chan *gzip.Writer, keptCompressors)},
}

// keptCompressors is how many idle compressors a free list keeps.
const keptCompressors = 4

type compressorList struct {
	level int
	free  chan *gzip.Writer
}

func (l *compressorList) get() *gzip.Writer {
	select {
	case z := <-l.free:
		return z
	default:
		z, err := gzip.NewWriterLevel(io.Discard, l.level)
		if err != nil {
			panic(err) // a constant, valid level
		}
		return z
	}
}

func (l *compressorList) put(z *gzip.Writer) {
	select {
	case l.free <- z:
	default:
	}
}

// buffers holds compressed members on their way to the file.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// compressMember compresses data at level as one gzip member and writes it
// to w in one call. It returns the member's size.
func compressMember(w io.Writer, data []byte, level int) (int, error) {
	out := buffers.Get().(*bytes.Buffer)
	out.Reset()
	defer func() {
		if out.Cap() <= 4*memberSize {
			buffers.Put(out)
		}
	}()
	list := compressors[level]
	z := list.get()
	defer list.put(z)
	z.Reset(out)
	if _, err := z.Write(data); err != nil {
		return 0, err
	}
	if err := z.Close(); err != nil {
		return 0, err
	}
	return w.Write(out.Bytes())
}

// runMembers holds, for each ASCII byte that JSON escapes, a member that
// decompresses to runLen escaped copies of it, made on first use.
var runMembers [utf8.RuneSelf]struct {
	once   sync.Once
	member []byte
}

// runMember returns the member for runLen copies of the escaped ASCII
// byte b.
func runMember(b byte) []byte {
	m := &runMembers[b]
	m.once.Do(func() {
		e := escapes[b]
		var buf bytes.Buffer
		if _, err := compressMember(&buf, bytes.Repeat(e.seq[:e.len], runLen), gzip.BestSpeed); err != nil {
			panic(err) // writing to memory
		}
		m.member = buf.Bytes()
	})
	return m.member
}

// ContentType is the media type of a recording file that starts with head
// (two bytes are enough): application/gzip for a compressed one, as a
// Writer makes it, and application/x-asciicast for a plain one.
func ContentType(head []byte) string {
	if isGzip(head) {
		return "application/gzip"
	}
	return "application/x-asciicast"
}

// isGzip reports whether a file starting with b is gzip-compressed. An
// uncompressed recording starts with '{'.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// cutTolerant reads a gzip stream and ends it cleanly where the input was
// cut short, as a crash leaves the last member, noting that it was.
type cutTolerant struct {
	r   io.Reader
	cut bool
}

func (c *cutTolerant) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		c.cut = true
		err = io.EOF
	}
	return n, err
}
