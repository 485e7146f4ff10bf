package jsonpath

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"$.autopilotResponse.value.content", "$.autopilotResponse['value'].content"},
		{"$.a..count", "$.a..['count']"},
		{"$.true", "$['true']"},
		{"$[?@.value == 1]", "$[?@['value'] == 1]"},
		{"$[?value(@.a) == 1]", "$[?value(@.a) == 1]"},
		{"$[?@.x == '.value']", "$[?@.x == '.value']"},
		{`$["a.null"].b`, `$["a.null"].b`},
		{"$.values.counter", "$.values.counter"},
		{"$.data.autopilotResponse.mode.slug", "$.data.autopilotResponse.mode.slug"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseQueriesTheLibraryRefuses(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(`{"autopilotResponse":{"value":{"content":"hi"}},"list":[{"value":1},{"value":2}],"true":"yes"}`), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"$.autopilotResponse.value.content", []string{"hi"}},
		{"$.list[?@.value == 2].value", []string{"2"}},
		{"$.true", []string{"yes"}},
		{"$..content", []string{"hi"}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.query)
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		var got []string
		for _, n := range p.Query(doc.Content[0]) {
			got = append(got, n.Value)
		}
		if len(got) != len(tt.want) || len(got) > 0 && got[0] != tt.want[0] {
			t.Errorf("%s selected %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestParseErrorsAreAboutTheQueryAsWritten(t *testing.T) {
	if _, err := Parse("$.a["); err == nil {
		t.Error("an unterminated bracket must be an error")
	}
	if _, err := Parse("autopilotResponse.value"); err == nil {
		t.Error("a query without $ must be an error")
	}
}
