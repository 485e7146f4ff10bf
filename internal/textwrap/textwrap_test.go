package textwrap

import (
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		width  int
		indent string
		want   []string
	}{
		{"fits", "a b c", 5, "", []string{"a b c"}},
		{"no limit", "a b c", 0, "", []string{"a b c"}},
		{"at spaces", "aaa bbb ccc", 7, "", []string{"aaa bbb", "ccc"}},
		{"indented", "aaa bbb ccc", 7, "  ", []string{"aaa bbb", "  ccc"}},
		{"keeps inner runs of spaces", "  x  y zzzz", 6, "", []string{"  x  y", "zzzz"}},
		{"breaks a long word", "abcdefghij", 4, "", []string{"abcd", "efgh", "ij"}},
		{"wide characters", "日本語日本語", 5, "", []string{"日本", "語日", "本語"}},
		{"indent too wide is dropped", "aaaa bbbb", 5, "   ", []string{"aaaa", "bbbb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lines(tt.text, tt.width, tt.indent)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Lines(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
			}
		})
	}
}
