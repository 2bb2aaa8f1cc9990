// Package recording writes, reads, spools and safely replays Lockbox session
// recordings.
//
// # Format
//
// A recording is an asciicast v2 file (the asciinema format): a header line
// holding a JSON object, then one JSON array per line for each event:
//
//	{"version": 2, "width": 80, "height": 24, "timestamp": 1767225600, "env": {"TERM": "xterm-256color"}, "lockbox": {"session": "…", "user": "alice", …}}
//	[0.104211, "o", "$ "]
//	[1.500000, "i", "l"]
//	[2.000000, "r", "100x40"]
//	[900.000000, "m", "session ended: idle for 15m0s"]
//
// Beside asciicast's output ("o"), input ("i"), resize ("r") and marker
// ("m") events, a recording carries Lockbox's own: "c" the exec command
// as the target is asked to run it, "s" a signal the client sent ("INT"),
// and "x" how the command ended: its exit status ("0") or "signal NAME".
// Generic players do not know them; [Export] turns them into markers and
// writes a plain file any asciinema player plays.
//
// Event times are seconds since the [Writer] was created, written with six
// decimals; the reader keeps them to the microsecond. Lockbox adds only the
// standard header fields and a nested "lockbox" object, which asciicast
// readers ignore.
//
// # Compression
//
// A [Writer] stores the file gzip-compressed, as a series of gzip members
// (one per batch of events; gzip tools and readers take them as one
// stream), so `gunzip -c SESSION.cast.gz` gives the asciicast text. A
// terminal session shrinks several times over, repeated output a hundred
// times or more: without compression, recording bulk output is bound by
// the disk, since JSON writes some bytes as six (a zero byte is \u0000).
// No session holds a compressor between batches. Output that does not
// compress is coded with Huffman coding alone, which costs less CPU, and a
// long run of one escaped byte is written as copies of a precompressed
// member. [Read] takes compressed and plain files alike.
//
// # Bytes that are not UTF-8
//
// Event data is a JSON string, which can hold only Unicode text, while a
// terminal session is a byte stream. So that every byte survives, event data
// is encoded as follows, and [Read] reverses it exactly:
//
//   - bytes that form valid UTF-8 are written as that text;
//   - each byte b of an invalid sequence is written as the character
//     U+F700+b (a private-use code point);
//   - a valid character that is itself in U+F700..U+F7FF is written as its
//     three UTF-8 bytes, each escaped as above, so decoding is unambiguous.
//
// Decoding maps every character in U+F700..U+F7FF back to the single byte
// it stands for, and every other character to its UTF-8 encoding. A generic
// asciinema player shows escaped bytes as private-use glyphs.
//
// # Byte events
//
// Output or input that is mostly not text (at least 256 bytes, one in
// eight of the first 256 not part of valid UTF-8: an archive, encrypted
// data) is written as base64 in events of its own, "O" for output and "I"
// for input, which cost a fraction of the escapes above to write and to
// compress. [Read] returns them as 'o' and 'i' events. A recording that
// may hold them says so in its header's lockbox object ("format": 2);
// recordings without a format are read as before, and byte events in
// them are refused.
//
// The output and input streams each carry an incomplete trailing UTF-8
// sequence (at most three bytes) over to their next event, so a character
// split across two reads is recorded whole. Those bytes are written with the
// stream's next event, or by Close.
//
// # Durability and failure
//
// A [Writer] buffers events and, at least every FlushEvery (one second by
// default), compresses and writes them to the file and fsyncs it, so a
// crash loses at most that much. A file left by a crash is a valid
// recording up to its last complete line: [Read] drops a partial last line,
// and reads a cut-off last gzip member as far as it goes, and reports
// Truncated.
// The first write or sync error is sticky: every later call returns it, and
// the caller must end the session (fail closed).
//
// # Replay
//
// Recorded output is hostile input for the viewer's terminal. [Play] writes
// it through a [Sanitizer], which removes every sequence that could make the
// terminal answer, change its clipboard or title, or act outside the screen;
// see [Sanitize] for the list. Never write recorded data to a terminal any
// other way.
//
// Errors returned by this package wrap the sentinel values declared in
// errors.go; compare them with [errors.Is].
package recording
