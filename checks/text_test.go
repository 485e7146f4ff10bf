package checks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestShorten(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{name: "short", in: "Hello there", max: 20, want: "Hello there"},
		{name: "exactly max", in: "abcde", max: 5, want: "abcde"},
		{name: "white space collapsed", in: "  Hello\n\n\tthere  \r\n friend ", max: 40, want: "Hello there friend"},
		{name: "cut at a word", in: "The quick brown fox jumps over the lazy dog", max: 20, want: "The quick brown fox… (43 chars)"},
		{name: "cut inside a long word", in: "Supercalifragilisticexpialidocious", max: 10, want: "Supercali… (34 chars)"},
		{name: "trailing punctuation dropped", in: "one, two, three, four", max: 11, want: "one, two… (21 chars)"},
		{name: "counts characters, not bytes", in: "ação ação ação ação", max: 10, want: "ação ação… (19 chars)"},
		{name: "length of the original", in: "a\n\n\n\nb c d e f g h", max: 6, want: "a b c… (18 chars)"},
		{name: "no limit", in: "a\nb", max: 0, want: "a b"},
		{name: "empty", in: "", max: 10, want: ""},
		{name: "only white space", in: " \n\t ", max: 10, want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Shorten(c.in, c.max); got != c.want {
				t.Errorf("Shorten(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
		})
	}
}

func TestFold(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"refund", "REFUND", true},
		{"Ça va", "ÇA VA", true},
		{"σίσυφος", "ΣΊΣΥΦΟΣ", true},
		{"\u212a", "k", true}, // Kelvin sign
		{"\u017f", "S", true}, // long s
		{"straße", "STRAẞE", true},
		{"straße", "STRASSE", false}, // simple folding only, as strings.EqualFold
		{"i", "ı", false},            // dotless i is its own letter
	}
	for _, c := range cases {
		if got := fold(c.a) == fold(c.b); got != c.same {
			t.Errorf("fold(%q) == fold(%q) is %v, want %v", c.a, c.b, got, c.same)
		}
		if c.same != strings.EqualFold(c.a, c.b) {
			t.Errorf("fold disagrees with strings.EqualFold on %q, %q", c.a, c.b)
		}
	}
	if s := "NO LOWER CASE 123"; fold(s) != s {
		t.Error("fold changed text that needs no folding")
	}
}

func TestFindFoldedMapsBackToTheOriginal(t *testing.T) {
	s := "\u212a\u212a ÀÉ Refund"
	start, end := findFolded(s, fold(s), fold("refund"))
	if got := s[start:end]; got != "Refund" {
		t.Errorf("match = %q", got)
	}
	if start, _ := findFolded(s, fold(s), fold("nope")); start != -1 {
		t.Error("found what is not there")
	}
}

func TestMatch(t *testing.T) {
	date, _ := time.Parse(time.DateOnly, "2024-05-01")
	cases := []struct {
		name      string
		want, got any
		subset    bool
		match     bool
		explain   string
	}{
		{name: "int and float", want: 42, got: 42.0, match: true},
		{name: "int and json number", want: 42, got: json.Number("42.00"), match: true},
		{name: "uint64 and json number", want: uint64(1) << 63, got: json.Number("9223372036854775808"), match: true},
		{name: "large ints differ", want: int64(1<<62 + 1), got: json.Number("4611686018427387904"), explain: "expected 4611686018427387905, got 4611686018427387904"},
		{name: "string and number", want: "42", got: 42.0, explain: `expected "42" (a string), got 42 (a number)`},
		{name: "bool and string", want: true, got: "true", explain: `expected true (a boolean), got "true" (a string)`},
		{name: "nil and null", want: nil, got: nil, match: true},
		{name: "timestamp and string", want: date, got: "2024-05-01", match: true},
		{name: "timestamp and other day", want: date, got: "2024-05-02", explain: `expected "2024-05-01", got "2024-05-02"`},
		{name: "exact map with extra key", want: map[string]any{"a": 1}, got: map[string]any{"a": 1, "b": 2}, explain: `unexpected key "b"`},
		{name: "subset map with extra key", want: map[string]any{"a": 1}, got: map[string]any{"a": 1, "b": 2}, subset: true, match: true},
		{name: "maps in lists compare exactly", want: map[string]any{"l": []any{map[string]any{"a": 1}}}, got: map[string]any{"l": []any{map[string]any{"a": 1, "b": 2}}}, subset: true,
			explain: `l[0]: unexpected key "b"`},
		{name: "odd key in path", want: map[string]any{"a b": map[string]any{"c": 1}}, got: map[string]any{"a b": map[string]any{"c": 2}},
			explain: `["a b"].c: expected 1, got 2`},
		{name: "other slice types", want: []any{"x", "y"}, got: []string{"x", "y"}, match: true},
		{name: "map[any]any from YAML", want: map[any]any{1: "one"}, got: map[string]any{"1": "one"}, match: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := match(c.want, c.got, c.subset); got != c.match {
				t.Fatalf("match = %v, want %v", got, c.match)
			}
			if got := explain(c.want, c.got, c.subset); got != c.explain {
				t.Errorf("explain = %q, want %q", got, c.explain)
			}
		})
	}
}

// FuzzFindFolded checks that a case-insensitive match maps back to the very
// characters that matched, and that quoting around it never breaks, whatever
// the text (invalid UTF-8 included).
func FuzzFindFolded(f *testing.F) {
	f.Add("\u212a\u212a ÀÉ Refund", "refund")
	f.Add("Straße \xff ok", "SSE \xff")
	f.Add(longReply, "two working")
	f.Fuzz(func(t *testing.T, s, needle string) {
		if needle == "" {
			return
		}
		start, end := findFolded(s, fold(s), fold(needle))
		if start < 0 {
			if strings.Contains(fold(s), fold(needle)) {
				t.Fatal("missed a match")
			}
			return
		}
		if fold(s[start:end]) != fold(needle) {
			t.Fatalf("match %q does not fold to %q", s[start:end], fold(needle))
		}
		_ = excerpt(s, start, end)
		_ = Shorten(s, 10)
	})
}
