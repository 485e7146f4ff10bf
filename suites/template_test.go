package suites

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/providers"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"a": "1", "b": "{{a}}", "empty": ""}
	tests := []struct{ in, want string }{
		{"no templates", "no templates"},
		{"{{a}}", "1"},
		{"x {{ a }} y {{a}}", "x 1 y 1"},
		{"{{\ta\n}}", "1"},
		{"{{b}}", "{{a}}"}, // inserted values are not expanded again
		{"[{{empty}}]", "[]"},
		{"{{missing}} {{a}}", "{{missing}} 1"},
		{"{{a-b}} {a} {{ a b }}", "{{a-b}} {a} {{ a b }}"},
		{"{{{a}}}", "{1}"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, vars); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandValue(t *testing.T) {
	vars := map[string]string{"id": "42"}
	in := map[string]any{
		"s":      "order {{id}}",
		"n":      7,
		"list":   []any{"{{id}}", true, nil, map[string]any{"deep": "{{id}}"}},
		"{{id}}": "keys stay",
	}
	want := map[string]any{
		"s":      "order 42",
		"n":      7,
		"list":   []any{"42", true, nil, map[string]any{"deep": "42"}},
		"{{id}}": "keys stay",
	}
	got := ExpandValue(in, vars)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExpandValue = %#v", got)
	}
	if in["s"] != "order {{id}}" || in["list"].([]any)[3].(map[string]any)["deep"] != "{{id}}" {
		t.Errorf("ExpandValue changed its input: %#v", in)
	}
	if ExpandValue(nil, vars) != nil {
		t.Error("ExpandValue(nil) is not nil")
	}
}

func TestExpectExpand(t *testing.T) {
	vars := map[string]string{"ticket": "T.1+(x)", "bot": "b1", "mode": "refunds"}
	e := &Expect{Specs: []Spec{
		ExpectSpec("contains", []string{"ticket {{ticket}}"}),
		ExpectSpec("not_contains", []string{"{{bot}}"}),
		ExpectSpec("equals", "{{ticket}}"),
		ExpectSpec("regex", []string{`^{{ticket}}\s+\d$`, `plain\d`}),
		ExpectSpec("transfer_bot", "{{bot}}"),
		ExpectSpec("action", []ActionExpect{{Name: "{{mode}}_ticket", Args: map[string]any{"id": "{{ticket}}", "n": 1}}}),
		ExpectSpec("knowledge", []string{"{{mode}}"}),
		ExpectSpec("mode", "{{mode}}"),
		ExpectSpec("json", []JSONExpect{{Path: "$.a", Want: []any{"{{bot}}", 2}}}),
	}}
	got := e.Expand(vars)
	want := &Expect{Specs: []Spec{
		ExpectSpec("contains", []string{"ticket T.1+(x)"}),
		ExpectSpec("not_contains", []string{"b1"}),
		ExpectSpec("equals", "T.1+(x)"),
		// In a regex the value matches literally.
		ExpectSpec("regex", []string{`^T\.1\+\(x\)\s+\d$`, `plain\d`}),
		ExpectSpec("transfer_bot", "b1"),
		ExpectSpec("action", []ActionExpect{{Name: "refunds_ticket", Args: map[string]any{"id": "T.1+(x)", "n": 1}}}),
		ExpectSpec("knowledge", []string{"refunds"}),
		ExpectSpec("mode", "refunds"),
		ExpectSpec("json", []JSONExpect{{Path: "$.a", Want: []any{"b1", 2}}}),
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expand =\n%#v\nwant\n%#v", viewSpecs(got.Specs), viewSpecs(want.Specs))
	}
	re, _ := got.Spec("regex")
	if !regexp.MustCompile(re.([]string)[0]).MatchString("T.1+(x)  7") {
		t.Errorf("expanded regex %q does not match the literal value", re)
	}
	eq, _ := e.Spec("equals")
	re0, _ := e.Spec("regex")
	act, _ := e.Spec("action")
	if eq != "{{ticket}}" || re0.([]string)[0] != `^{{ticket}}\s+\d$` || act.([]ActionExpect)[0].Args["id"] != "{{ticket}}" {
		t.Error("Expand changed its receiver")
	}
	var none *Expect
	if none.Expand(vars) != nil {
		t.Error("nil Expect expands to non-nil")
	}
}

// TestExpectExpandPlain checks the fast path the runner relies on: an Expect
// the loader found free of templates comes back as the same pointer.
func TestExpectExpandPlain(t *testing.T) {
	s, err := loadOne("testdata/good/opencx.yaml", env(map[string]string{"OPENCX_API_KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	plain := s.Conversations[1].Turns[0].Expect
	if got := plain.Expand(map[string]string{"x": "y"}); got != plain {
		t.Error("an Expect without templates was copied")
	}
	templated := s.Conversations[0].Turns[1].Expect
	got := templated.Expand(map[string]string{"ticket": "T.7"})
	re, _ := got.Spec("regex")
	if got == templated || re.([]string)[0] != `T\.7 (open|closed)$` {
		t.Errorf("templated Expect expanded to %+v", got)
	}
	if !plain.plain || templated.plain {
		t.Errorf("plain flags: %v %v", plain.plain, templated.plain)
	}
}

func TestFinalExpand(t *testing.T) {
	f := &Final{Specs: []Spec{FinalSpec("status", "{{st}}"), FinalSpec("handoff", true), FinalSpec("custom_data", map[string]any{"t": "{{id}}"})}}
	got := f.Expand(map[string]string{"st": "open", "id": "7"})
	status, _ := got.Spec("status")
	handoff, _ := got.Spec("handoff")
	data, _ := got.Spec("custom_data")
	was, _ := f.Spec("status")
	if status != "open" || data.(map[string]any)["t"] != "7" || handoff != true || was != "{{st}}" {
		t.Errorf("Final.Expand = %+v", got)
	}
	p := &Final{Specs: []Spec{FinalSpec("handoff", true)}, plain: true}
	if p.Expand(nil) != p {
		t.Error("a Final without templates was copied")
	}
}

func TestTemplateNames(t *testing.T) {
	names, invalid := templateNames("{{a}} {{ b_2 }} {{1x}} {{a-b}} {{ }} {single}")
	if !reflect.DeepEqual(names, []string{"a", "b_2"}) || !reflect.DeepEqual(invalid, []string{"{{1x}}", "{{a-b}}"}) {
		t.Errorf("templateNames = %q, %q", names, invalid)
	}
}

func TestExpandEnv(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "1", "B": "two", "EMPTY": ""}[k]
		return v, ok
	}
	tests := []struct {
		in, want string
		names    []string
		problems []envProblem
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "1", names: []string{"A"}},
		{in: "x${A}${B}y", want: "x1twoy", names: []string{"A", "B"}},
		{in: "[${EMPTY}]", want: "[]", names: []string{"EMPTY"}},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$.a $HOME end$", want: "$.a $HOME end$"},
		{in: "${MISSING}", want: "", names: []string{"MISSING"}, problems: []envProblem{{name: "MISSING"}}},
		{in: "${", want: "${", problems: []envProblem{{malformed: true}}},
		{in: "${1A}", want: "${1A}", problems: []envProblem{{malformed: true}}},
		{in: "${A B}", want: "${A B}", problems: []envProblem{{malformed: true}}},
	}
	for _, tt := range tests {
		got, names, problems := expandEnv(tt.in, lookup)
		if got != tt.want || !reflect.DeepEqual(names, tt.names) || !reflect.DeepEqual(problems, tt.problems) {
			t.Errorf("expandEnv(%q) = %q, %v, %v; want %q, %v, %v", tt.in, got, names, problems, tt.want, tt.names, tt.problems)
		}
	}
}

func BenchmarkExpectExpand(b *testing.B) {
	vars := map[string]string{"ticket": "TCK-1", "order": "ord_1"}
	plain := &Expect{Specs: []Spec{ExpectSpec("contains", []string{"refund"}), ExpectSpec("regex", []string{`TCK-\d+`})}, plain: true}
	templated := &Expect{Specs: []Spec{ExpectSpec("contains", []string{"refund {{order}}"}), ExpectSpec("regex", []string{`{{ticket}} open`})}}
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			_ = plain.Expand(vars)
		}
	})
	b.Run("templated", func(b *testing.B) {
		for b.Loop() {
			_ = templated.Expand(vars)
		}
	})
}

func TestProviderKeepsEveryEnvironmentValueAsASecret(t *testing.T) {
	env := Options{LookupEnv: func(name string) (string, bool) {
		return map[string]string{"TOKEN": "tok-123456", "KEY": "k-abcdef", "ENVNAME": "st", "USER_NAME": "Ana"}[name], true
	}}
	path := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(path, []byte(`provider:
  type: http
  base_url: http://127.0.0.1:1
  token: ${TOKEN}
  headers: {X-Key: "${KEY}", X-Env: "${ENVNAME}"}
  request: {path: "/chat?key=${KEY}", body: {message: "{{message}}"}}
  response: {text: $.reply}
conversations:
  - {name: a, turns: [{user: "hi ${USER_NAME}"}]}
`), 0o644)
	ss, err := Load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ss[0].Provider.EnvSecrets {
		got = append(got, s.Value())
	}
	// The token, the key (twice: header and path); not the 2-letter value,
	// and not values read outside the provider section.
	if strings.Join(got, ",") != "tok-123456,k-abcdef,k-abcdef" {
		t.Errorf("secrets %v", got)
	}
}

// TestEnvironmentSecretsStartWhereRedactionDoes pins the loader's shortest
// secret to the Redactor's: a value one byte shorter is not kept.
func TestEnvironmentSecretsStartWhereRedactionDoes(t *testing.T) {
	long, short := strings.Repeat("k", providers.MinSecretLen), strings.Repeat("s", providers.MinSecretLen-1)
	env := Options{LookupEnv: func(name string) (string, bool) {
		return map[string]string{"LONG": long, "SHORT": short}[name], true
	}}
	ss, errs, _ := loadData("s.yaml", []byte(`provider:
  type: http
  base_url: http://127.0.0.1:1
  headers: {X-Long: "${LONG}", X-Short: "${SHORT}"}
  request: {path: /chat, body: {message: "{{message}}"}}
  response: {text: $.reply}
conversations:
  - {name: a, turns: [{user: hi}]}
`), env)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, s := range ss[0].Provider.EnvSecrets {
		got = append(got, s.Value())
	}
	if strings.Join(got, ",") != long {
		t.Errorf("secrets %q, want only %q", got, long)
	}
}
