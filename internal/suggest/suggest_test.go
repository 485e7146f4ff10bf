package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"junit", "jnuit", 1}, // a swap is one edit
		{"ab", "ba", 1},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
		{"größe", "grösse", 2},
		{"größe", "gröse", 1}, // runes, not bytes
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	flags := []string{"c", "concurrency", "junit", "json", "no-progress", "fail-fast", "filter"}
	keys := []string{"turns", "user", "type", "name", "expect", "max_latency", "mode"}
	metrics := []string{"turn_latency", "turn_service_latency", "session_latency", "error_rate", "pass_rate", "late", "throughput"}
	tests := []struct {
		name       string
		word       string
		candidates []string
		want       string
	}{
		{"a swap", "jnuit", flags, "junit"},
		{"one letter short", "concurency", flags, "concurrency"},
		{"case and dashes", "No_Progress", flags, "no-progress"},
		{"underscore for a dash", "max-latency", keys, "max_latency"},
		{"camel case", "maxLatency", keys, "max_latency"},
		{"a prefix", "conc", flags, "concurrency"},
		{"inside a name", "progress", flags, "no-progress"},
		{"closest before a prefix", "rat", []string{"rate-limit", "rate"}, "rate"},
		{"the first prefix", "rat", []string{"rate-limit", "rate-burst"}, "rate-limit"},
		{"two slips in five letters", "tunrz", keys, "turns"},
		{"two slips in four letters are too many", "tpyx", keys, ""},
		{"three slips from ten letters", "trun_latncyy", metrics, "turn_latency"},
		{"three slips in nine letters are too many", "pas_raetx", metrics, ""},
		{"a short word inside a name is no guess", "ate", []string{"rate-limit"}, ""},
		{"one letter is no guess", "x", flags, ""},
		{"one-letter names are never suggested", "cc", []string{"c"}, ""},
		{"nothing close", "zzzzzzzz", flags, ""},
		{"no candidates", "turns", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Nearest(tt.word, tt.candidates); got != tt.want {
				t.Errorf("Nearest(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}
