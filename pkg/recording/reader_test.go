package recording

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const validHeader = `{"version": 2, "width": 80, "height": 24, "timestamp": 1767323045, "env": {"TERM": "xterm", "SHELL": "/bin/bash"}, "theme": {"fg": "#fff"}, "idle_time_limit": 2.5, "lockbox": {"session": "s-1", "user": "alice", "resource": "web-1", "role": "admin", "request": "r-1", "command": ""}}`

// bytesHeader is validHeader in the lockbox format with byte events.
const bytesHeader = `{"version": 2, "width": 80, "height": 24, "timestamp": 1767323045, "env": {"TERM": "xterm"}, "lockbox": {"session": "s-1", "user": "alice", "resource": "web-1", "role": "admin", "request": "r-1", "command": "", "format": 2}}`

func TestReadAcceptsRecordings(t *testing.T) {
	hdr := Header{Width: 80, Height: 24, Timestamp: t0, Term: "xterm", Session: "s-1", User: "alice", Resource: "web-1", Role: "admin", Request: "r-1", Terminal: true}
	for _, tc := range []struct {
		name string
		in   string
		want *Recording
	}{
		{
			name: "header only",
			in:   validHeader + "\n",
			want: &Recording{Header: hdr},
		},
		{
			name: "every kind of event",
			in: validHeader + "\n" +
				`[0.5, "o", "hi\u001b[0m"]` + "\n" +
				`[0.5, "i", "x"]` + "\n" +
				`[1.25, "r", "100x40"]` + "\n" +
				"[2e0,\"m\",\"end\"]\n",
			want: &Recording{Header: hdr, Events: []Event{
				{Time: 500 * time.Millisecond, Kind: 'o', Data: []byte("hi\x1b[0m")},
				{Time: 500 * time.Millisecond, Kind: 'i', Data: []byte("x")},
				{Time: 1250 * time.Millisecond, Kind: 'r', Data: []byte("100x40")},
				{Time: 2 * time.Second, Kind: 'm', Data: []byte("end")},
			}},
		},
		{
			name: "times kept to the microsecond",
			in:   validHeader + "\n" + `[0.1234567, "o", "a"]` + "\n",
			want: &Recording{Header: hdr, Events: []Event{{Time: 123457 * time.Microsecond, Kind: 'o', Data: []byte("a")}}},
		},
		{
			name: "escaped bytes decoded",
			in:   validHeader + "\n" + `[0, "o", "\uf7ff\uf780a"]` + "\n",
			want: &Recording{Header: hdr, Events: []Event{{Kind: 'o', Data: []byte("\xff\x80a")}}},
		},
		{
			name: "byte events decoded in format 2, beside text",
			in: bytesHeader + "\n" + `[0, "O", "/4AAYQ=="]` + "\n" + `[0.5, "o", "\uf7ffb"]` + "\n" +
				`[1, "I", "AAEC"]` + "\n" + `[1, "O", ""]` + "\n",
			want: &Recording{Header: hdr, Events: []Event{
				{Kind: 'o', Data: []byte("\xff\x80\x00a")},
				{Time: 500 * time.Millisecond, Kind: 'o', Data: []byte("\xffb")},
				{Time: time.Second, Kind: 'i', Data: []byte{0, 1, 2}},
				{Time: time.Second, Kind: 'o', Data: []byte{}},
			}},
		},
		{
			name: "partial last line dropped as truncated",
			in:   validHeader + "\n" + `[1, "o", "a"]` + "\n" + `[2, "o", "bc`,
			want: &Recording{Header: hdr, Events: []Event{{Time: time.Second, Kind: 'o', Data: []byte("a")}}, Truncated: true},
		},
		{
			name: "unparsable last line dropped as truncated",
			in:   validHeader + "\n" + `[1, "o", "a"]` + "\n" + "\x00\x00\x00\n",
			want: &Recording{Header: hdr, Events: []Event{{Time: time.Second, Kind: 'o', Data: []byte("a")}}, Truncated: true},
		},
		{
			name: "complete last line without newline kept",
			in:   validHeader + "\n" + `[1, "o", "a"]`,
			want: &Recording{Header: hdr, Events: []Event{{Time: time.Second, Kind: 'o', Data: []byte("a")}}},
		},
		{
			name: "standard command used without lockbox object",
			in:   `{"version": 2, "width": 1, "height": 10000, "command": "top"}` + "\n",
			want: &Recording{Header: Header{Width: 1, Height: 10000, Command: "top"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := Read(strings.NewReader(tc.in), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rec); diff != "" {
				t.Errorf("recording (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadRefusesBadHeaders(t *testing.T) {
	for _, tc := range []struct{ name, header string }{
		{"empty file", ""},
		{"not JSON", "hello"},
		{"array", `[2, 80, 24]`},
		{"null", `null`},
		{"version 1", `{"version": 1, "width": 80, "height": 24}`},
		{"version 3", `{"version": 3, "width": 80, "height": 24}`},
		{"version as string", `{"version": "2", "width": 80, "height": 24}`},
		{"version 2.0", `{"version": 2.0, "width": 80, "height": 24}`},
		{"missing version", `{"width": 80, "height": 24}`},
		{"missing width", `{"version": 2, "height": 24}`},
		{"zero height", `{"version": 2, "width": 80, "height": 0}`},
		{"width over limit", `{"version": 2, "width": 10001, "height": 24}`},
		{"fractional width", `{"version": 2, "width": 80.5, "height": 24}`},
		{"timestamp as string", `{"version": 2, "width": 80, "height": 24, "timestamp": "now"}`},
		{"unknown lockbox format", `{"version": 2, "width": 80, "height": 24, "lockbox": {"format": 3}}`},
		{"lockbox format as string", `{"version": 2, "width": 80, "height": 24, "lockbox": {"format": "2"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.header
			if in != "" {
				in += "\n" + `[0, "o", "a"]` + "\n"
			}
			_, err := Read(strings.NewReader(in), 1<<20)
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("Read = %v, want ErrBadHeader", err)
			}
		})
	}
}

func TestReadRefusesBadMiddleLineNamingIt(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"garbage", "garbage"},
		{"empty line", ""},
		{"object", `{"t": 1}`},
		{"two elements", `[1, "o"]`},
		{"four elements", `[1, "o", "a", "b"]`},
		{"negative time", `[-1, "o", "a"]`},
		{"time as string", `["1", "o", "a"]`},
		{"null time", `[null, "o", "a"]`},
		{"time going back", `[0.5, "o", "a"]`},
		{"huge time", `[1e300, "o", "a"]`},
		{"unknown kind", `[1, "x", "a"]`},
		{"two-letter kind", `[1, "oo", "a"]`},
		{"kind as number", `[1, 111, "a"]`},
		{"data as number", `[1, "o", 5]`},
		{"null data", `[1, "o", null]`},
		{"resize without x", `[1, "r", "80"]`},
		{"resize with zero", `[1, "r", "0x24"]`},
		{"resize too large", `[1, "r", "80x10001"]`},
		{"resize with sign", `[1, "r", "+80x24"]`},
		{"byte event before format 2", `[1, "O", "YQ=="]`},
		{"byte event for another stream", `[1, "R", "YQ=="]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := validHeader + "\n" + `[1, "o", "a"]` + "\n" + tc.line + "\n" + `[2, "o", "b"]` + "\n"
			_, err := Read(strings.NewReader(in), 1<<20)
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("Read = %v, want ErrBadEvent", err)
			}
			if !strings.Contains(err.Error(), "line 3:") {
				t.Errorf("error %q does not name line 3", err)
			}
		})
	}
}

func TestReadRefusesBadByteEventsNamingThem(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"not base64", `[1, "O", "a!b?"]`},
		{"unpadded", `[1, "O", "YQ"]`},
		{"URL alphabet", `[1, "I", "-_-_"]`},
		{"padding bits set", `[1, "O", "YR=="]`},
		{"line break inside", `[1, "O", "YWFh\nYWFh"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := bytesHeader + "\n" + `[1, "o", "a"]` + "\n" + tc.line + "\n" + `[2, "o", "b"]` + "\n"
			_, err := Read(strings.NewReader(in), 1<<20)
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("Read = %v, want ErrBadEvent", err)
			}
			if !strings.Contains(err.Error(), "line 3:") {
				t.Errorf("error %q does not name line 3", err)
			}
		})
	}
}

func TestReadRefusesOversizeInput(t *testing.T) {
	in := validHeader + "\n" + `[1, "o", "abc"]` + "\n"
	if _, err := Read(strings.NewReader(in), int64(len(in))); err != nil {
		t.Errorf("input of exactly the limit: %v", err)
	}
	for _, limit := range []int64{int64(len(in)) - 1, int64(len(validHeader)) - 1} {
		if _, err := Read(strings.NewReader(in), limit); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Read with limit %d = %v, want ErrTooLarge", limit, err)
		}
	}
	if _, err := Read(strings.NewReader(in), 0); err == nil {
		t.Errorf("Read with limit 0 succeeded")
	}
}

func TestOutputConcatenatesOnlyOutputEvents(t *testing.T) {
	rec := &Recording{Events: []Event{
		{Kind: 'o', Data: []byte("a")}, {Kind: 'i', Data: []byte("x")},
		{Kind: 'r', Data: []byte("1x1")}, {Kind: 'o', Data: []byte("b")}, {Kind: 'm', Data: []byte("m")},
	}}
	if got := string(Output(rec)); got != "ab" {
		t.Errorf("Output = %q, want %q", got, "ab")
	}
}
