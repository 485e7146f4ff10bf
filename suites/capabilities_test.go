package suites

import (
	"reflect"
	"testing"

	"github.com/evalrun/evalrun/internal/suggest"
)

func TestCapabilities(t *testing.T) {
	if got := ProviderTypes(); !reflect.DeepEqual(got, []string{HTTP, OpenCX, Toolzz}) {
		t.Errorf("ProviderTypes = %v", got)
	}
	tests := []struct {
		typ, key      string
		expect, final bool
	}{
		{OpenCX, "transfer_bot", false, false},
		{OpenCX, "might_solve", true, false},
		{OpenCX, "json", true, false},
		{OpenCX, "sentiment", false, true},
		{OpenCX, "handoff", true, true},
		{Toolzz, "transfer_bot", true, false},
		{Toolzz, "mode", false, false},
		{Toolzz, "handoff", true, true},
		{Toolzz, "status", false, false},
		{HTTP, "contains", true, false},
		{HTTP, "might_solve", false, false},
		{HTTP, "handoff", true, true},
		{"nosuch", "contains", false, false},
	}
	for _, tt := range tests {
		if got := AnswersExpect(tt.typ, tt.key); got != tt.expect {
			t.Errorf("AnswersExpect(%s, %s) = %v", tt.typ, tt.key, got)
		}
		if got := AnswersFinal(tt.typ, tt.key); got != tt.final {
			t.Errorf("AnswersFinal(%s, %s) = %v", tt.typ, tt.key, got)
		}
	}
	// Every provider an entry names is a provider type the loader knows.
	for _, e := range append(ExpectEntries(), FinalEntries()...) {
		for _, typ := range e.Providers {
			if _, ok := providerSpecs[typ]; !ok {
				t.Errorf("%s is answered by unknown provider type %q", e.Name, typ)
			}
		}
	}
	if DefaultBaseURL(OpenCX) != "https://api.open.cx" || DefaultBaseURL(Toolzz) != "https://kratos.api.toolzz.com.br" || DefaultBaseURL("x") != "" {
		t.Error("DefaultBaseURL")
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ word, want string }{
		{"turnz", "turns"},
		{"expcet", "expect"}, // swapped letters
		{"max-latency", "max_latency"},
		{"maxLatency", "max_latency"},
		{"User", "user"},
		{"tpye", "type"},
		{"foo", ""},
		{"rate_limit", ""},
		{"nam", "name"},
		{"mod", "mode"},
		{"xyz", ""},
		// Since the guess is internal/suggest's, as for flags, a key's
		// beginning is a guess too.
		{"max_lat", "max_latency"},
	}
	known := append(entryNames(expectTable), "turns", "user", "type", "name", "expect")
	for _, tt := range tests {
		if got := suggest.Nearest(tt.word, known); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
