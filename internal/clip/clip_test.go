package clip

import "testing"

func TestRunes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc..."},
		{"ääää", 2, "ää..."},
		{"日本語", 3, "日本語"},
		{"日本語x", 3, "日本語..."},
		{"abc", 0, "..."},
	} {
		if got := Runes(c.in, c.n); got != c.want {
			t.Errorf("Runes(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aä", 2, "a"}, // ä is two bytes: not cut in half
		{"aä", 3, "aä"},
		{"日本", 4, "日"},
		{"日本", 2, ""},
		{"abc", -1, ""},
	} {
		if got := Bytes(c.in, c.n); got != c.want {
			t.Errorf("Bytes(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
