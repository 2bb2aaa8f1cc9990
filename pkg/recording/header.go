package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// MaxDimension is the largest terminal width or height a recording may have.
const MaxDimension = 10000

// Header describes a recording. Width, Height, Timestamp, Term, Title and
// Command are standard asciicast fields; the others identify the Lockbox
// session and are stored in the header's "lockbox" object.
type Header struct {
	Width, Height int       // terminal size at the start, 1..MaxDimension
	Timestamp     time.Time // start of the session, kept to the second
	Term          string    // the client's TERM, stored as env.TERM
	Title         string
	Command       string // the exec command, empty for a shell

	Session  string // session ID
	User     string // who connected
	Resource string // the target
	Role     string // the role granted
	Request  string // the access request that granted it
	// Terminal tells whether the session ran on a terminal. Without one
	// the output holds bare line feeds, which a viewer's terminal must
	// show as the terminal's line discipline would (from column 0).
	// Recordings from before this field: true when env.TERM is set, which
	// the bastion wrote only for sessions on a terminal.
	Terminal bool
}

// headerJSON is the header line as written. Command is written both as the
// standard field and in the lockbox object, where readers look first.
type headerJSON struct {
	Version   int               `json:"version"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	Timestamp int64             `json:"timestamp"`
	Command   string            `json:"command,omitempty"`
	Title     string            `json:"title,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	Lockbox   lockboxJSON       `json:"lockbox"`
}

type lockboxJSON struct {
	Session  string `json:"session"`
	User     string `json:"user"`
	Resource string `json:"resource"`
	Role     string `json:"role"`
	Request  string `json:"request"`
	Command  string `json:"command"`
	Terminal *bool  `json:"terminal,omitempty"`
	// Format is the version of Lockbox's event encoding: absent in
	// recordings from before byte events ("O", "I"), formatBytes since.
	Format int `json:"format,omitempty"`
}

// formatBytes is the event encoding that adds byte events: output and
// input written as base64 ("O", "I") when they are mostly not UTF-8.
// Recordings without a format have none, and a reader refuses them there.
const formatBytes = 2

// headerIn is the header line as read: pointers tell missing from zero.
type headerIn struct {
	Version   json.RawMessage   `json:"version"`
	Width     *int              `json:"width"`
	Height    *int              `json:"height"`
	Timestamp *int64            `json:"timestamp"`
	Command   string            `json:"command"`
	Title     string            `json:"title"`
	Env       map[string]string `json:"env"`
	Lockbox   *lockboxJSON      `json:"lockbox"`
}

func validDimension(n int) bool { return n >= 1 && n <= MaxDimension }

// check reports what is wrong with h for writing.
func (h *Header) check() error {
	if !validDimension(h.Width) || !validDimension(h.Height) {
		return fmt.Errorf("%w: size %dx%d not within 1..%d", ErrBadHeader, h.Width, h.Height, MaxDimension)
	}
	for _, s := range []string{h.Term, h.Title, h.Command, h.Session, h.User, h.Resource, h.Role, h.Request} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: field %q is not valid UTF-8", ErrBadHeader, s)
		}
	}
	return nil
}

// marshal returns the header line, newline included.
func (h *Header) marshal() ([]byte, error) {
	out := headerJSON{
		Version:   2,
		Width:     h.Width,
		Height:    h.Height,
		Timestamp: h.Timestamp.Unix(),
		Command:   h.Command,
		Title:     h.Title,
		Lockbox: lockboxJSON{
			Session: h.Session, User: h.User, Resource: h.Resource,
			Role: h.Role, Request: h.Request, Command: h.Command,
			Terminal: &h.Terminal, Format: formatBytes,
		},
	}
	if h.Term != "" {
		out.Env = map[string]string{"TERM": h.Term}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encoding recording header: %w", err)
	}
	return append(b, '\n'), nil
}

// parseHeader parses a header line strictly: version must be the number 2
// and width and height integers within 1..MaxDimension. Unknown keys are
// ignored, as asciicast v2 requires. It also returns the lockbox
// object's format: 0 for recordings from before it, else formatBytes.
func parseHeader(line []byte) (Header, int, error) {
	var in headerIn
	if err := json.Unmarshal(line, &in); err != nil {
		return Header{}, 0, fmt.Errorf("%w: %v", ErrBadHeader, err)
	}
	if !bytes.Equal(bytes.TrimSpace(in.Version), []byte("2")) {
		return Header{}, 0, fmt.Errorf("%w: version must be 2", ErrBadHeader)
	}
	if in.Width == nil || in.Height == nil {
		return Header{}, 0, fmt.Errorf("%w: width and height are required", ErrBadHeader)
	}
	if !validDimension(*in.Width) || !validDimension(*in.Height) {
		return Header{}, 0, fmt.Errorf("%w: size %dx%d not within 1..%d", ErrBadHeader, *in.Width, *in.Height, MaxDimension)
	}
	format := 0
	h := Header{Width: *in.Width, Height: *in.Height, Term: in.Env["TERM"], Title: in.Title, Command: in.Command,
		Terminal: in.Env["TERM"] != ""}
	if in.Timestamp != nil {
		h.Timestamp = time.Unix(*in.Timestamp, 0).UTC()
	}
	if lb := in.Lockbox; lb != nil {
		h.Session, h.User, h.Resource, h.Role, h.Request = lb.Session, lb.User, lb.Resource, lb.Role, lb.Request
		if lb.Command != "" {
			h.Command = lb.Command
		}
		if lb.Terminal != nil {
			h.Terminal = *lb.Terminal
		}
		if lb.Format != 0 && lb.Format != formatBytes {
			return Header{}, 0, fmt.Errorf("%w: lockbox format %d is not known (this reader knows %d)", ErrBadHeader, lb.Format, formatBytes)
		}
		format = lb.Format
	}
	return h, format, nil
}
