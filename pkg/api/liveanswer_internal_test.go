package api

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lockbox-ssh/lockbox/pkg/wire"
)

// The hand-written live answer is byte for byte what encodeJSON writes.
func TestLiveAnswerIsEncodeJSON(t *testing.T) {
	for _, o := range []wire.LiveOutput{
		{},
		{Offset: 3, Data: []byte{}, Next: 3},
		{Offset: 17, Data: []byte("hello\x00\xff<&>\n"), Next: 29, Skipped: 5, Watchers: []string{"grace"}},
		{Offset: -1, Next: 1 << 62, Ended: true, EndReason: "ended by \"carol\" <\u2028> \\ \x01 é", Watchers: []string{"a", "b<>&", "ü"}},
		{Offset: 1, Data: bytes.Repeat([]byte{0xfe, 'x', 0}, 1000), Next: 3001, Watchers: []string{}},
	} {
		var want bytes.Buffer
		if err := encodeJSON(&want, o); err != nil {
			t.Fatal(err)
		}
		if got := encodeLiveOutput(&o); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%+v:\n got %q\nwant %q", o, got, want.Bytes())
		}
	}
}

// Watchers asking for the same read of a session get one encoded answer;
// any difference in what the answer says (or another session) encodes
// anew.
func TestLiveAnswersAreSharedOnlyWhenTheSame(t *testing.T) {
	var c liveAnswers
	o := wire.LiveOutput{Offset: 10, Data: []byte("0123456789"), Next: 20, Watchers: []string{"carol"}}
	first := c.encoded("sess-a", &o)
	same := o
	same.Data = []byte("0123456789")
	if got := c.encoded("sess-a", &same); &got[0] != &first[0] {
		t.Fatal("the same read was encoded again")
	}
	for name, other := range map[string]wire.LiveOutput{
		"watchers": {Offset: 10, Data: []byte("0123456789"), Next: 20, Watchers: []string{"carol", "erin"}},
		"skipped":  {Offset: 10, Data: []byte("0123456789"), Next: 20, Skipped: 4, Watchers: []string{"carol"}},
		"offsets":  {Offset: 11, Data: []byte("123456789a"), Next: 21, Watchers: []string{"carol"}},
		"ended":    {Offset: 20, Data: []byte{}, Next: 20, Ended: true},
		"null":     {Offset: 20, Next: 20, Ended: true},
	} {
		got := c.encoded("sess-a", &other)
		if want := encodeLiveOutput(&other); !bytes.Equal(got, want) {
			t.Errorf("%s: answered %q, want %q", name, got, want)
		}
	}
	if got := c.encoded("sess-b", &o); &got[0] == &first[0] {
		t.Error("another session's answer was shared")
	}
}

// The answers kept stay within maxLiveAnswerBytes, however many sessions
// are read.
func TestLiveAnswersAreBounded(t *testing.T) {
	var c liveAnswers
	data := bytes.Repeat([]byte("x"), 256<<10)
	for i := range 200 {
		o := wire.LiveOutput{Offset: 0, Data: data, Next: int64(len(data))}
		c.encoded(fmt.Sprintf("sess-%d", i), &o)
		if c.size > maxLiveAnswerBytes {
			t.Fatalf("%d bytes of answers kept after %d sessions", c.size, i+1)
		}
	}
	total := 0
	for _, a := range c.last {
		total += len(a.body)
	}
	if total != c.size || len(c.last) == 0 {
		t.Fatalf("%d answers of %d bytes kept, counted %d", len(c.last), total, c.size)
	}
}
