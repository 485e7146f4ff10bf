package suites

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/evalrun/evalrun/checks"
)

func loadInline(t *testing.T, src string) *Suite {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := loadOne(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEverydayChecksLoad reads each new key into the value its entry
// decodes to, keeps templates for Expand, and quotes what Expand inserts
// into a regex.
func TestEverydayChecksLoad(t *testing.T) {
	s := loadInline(t, `provider: {type: http, base_url: "http://127.0.0.1:1", request: {body: {m: "{{message}}"}}, response: {text: $.reply}}
vars: {word: "a.b"}
conversations:
  - name: c
    turns:
      - user: hi
        expect:
          not_regex: ["error \\d+", "{{word}}$"]
          contains_any: [refund, "{{word}}"]
          length: {max: 280}
          json:
            "$.count": {gte: 1, lt: 10.5}
            "$.status": {in: [open, "{{word}}"], ne: closed}
            "$.id": {regex: "^{{word}}-\\d+$", exists: true}
            "$.obj": {gt: 1, note: x}
      - user: again
        expect: {length: {min: 0}}
`)
	turns := s.Conversations[0].Turns
	e := turns[0].Expect
	at := func(line, col int) Pos { return Pos{File: e.Pos.File, Line: line, Col: col} }
	want := []specView{
		{"not_regex", []string{`error \d+`, "{{word}}$"}, at(8, 11)},
		{"contains_any", []string{"refund", "{{word}}"}, at(9, 11)},
		{"length", checks.LengthBounds{Min: -1, Max: 280}, at(10, 11)},
		{"json", []JSONExpect{
			{Path: "$.count", Ops: []checks.JSONOp{{Op: "gte", Value: 1}, {Op: "lt", Value: 10.5}}, Pos: at(12, 13)},
			{Path: "$.status", Ops: []checks.JSONOp{{Op: "in", Value: []any{"open", "{{word}}"}}, {Op: "ne", Value: "closed"}}, Pos: at(13, 13)},
			{Path: "$.id", Ops: []checks.JSONOp{{Op: "regex", Value: `^{{word}}-\d+$`}, {Op: "exists", Value: true}}, Pos: at(14, 13)},
			// Not every key is an operator: a literal object to compare.
			{Path: "$.obj", Want: map[string]any{"gt": 1, "note": "x"}, Pos: at(15, 13)},
		}, at(11, 11)},
	}
	if got := viewSpecs(e.Specs); !reflect.DeepEqual(got, want) {
		t.Errorf("specs =\n%#v\nwant\n%#v", got, want)
	}
	if e.plain {
		t.Error("an expect with templates is marked plain")
	}
	if b, _ := turns[1].Expect.Spec("length"); b != (checks.LengthBounds{Min: 0, Max: -1}) || !turns[1].Expect.plain {
		t.Errorf("length {min: 0} = %+v", b)
	}

	x := e.Expand(s.Vars)
	nr, _ := x.Spec("not_regex")
	ca, _ := x.Spec("contains_any")
	js, _ := x.Spec("json")
	if !reflect.DeepEqual(nr, []string{`error \d+`, `a\.b$`}) || !reflect.DeepEqual(ca, []string{"refund", "a.b"}) {
		t.Errorf("expanded not_regex %q, contains_any %q", nr, ca)
	}
	ops := js.([]JSONExpect)
	if got := ops[1].Ops[0].Value; !reflect.DeepEqual(got, []any{"open", "a.b"}) {
		t.Errorf("expanded in = %v", got)
	}
	if got := ops[2].Ops[0].Value; got != `^a\.b-\d+$` {
		t.Errorf("expanded regex operand = %v", got)
	}
	if was, _ := e.Spec("json"); was.([]JSONExpect)[2].Ops[0].Value != `^{{word}}-\d+$` {
		t.Error("Expand changed its receiver")
	}
}

// TestEveryProviderAnswersEverydayChecks: the new keys read only the
// reply's text and body, which every provider has.
func TestEveryProviderAnswersEverydayChecks(t *testing.T) {
	for _, typ := range ProviderTypes() {
		for _, key := range []string{"not_regex", "contains_any", "length", "json"} {
			if !AnswersExpect(typ, key) {
				t.Errorf("%s does not answer %s", typ, key)
			}
		}
	}
}

// TestJSONNearOperatorsWarn: a mapping that mixes operators with a near miss
// of one is a literal object, as documented, but the loader says so.
func TestJSONNearOperatorsWarn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	const src = `provider: {type: opencx, base_url: sim}
conversations:
  - name: c
    turns:
      - user: hi
        expect:
          json:
            "$.n": {gte: 1, lts: 5}
            "$.user": {id: 3, name: x}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var warns []string
	opts := env(nil)
	opts.Warn = func(e *Error) { warns = append(warns, e.Error()) }
	ss, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{path + `:8:29: json $.n: "lts" is not an operator, so this mapping is compared as a literal object; did you mean "lt"?`}
	if !reflect.DeepEqual(warns, want) {
		t.Errorf("warnings = %q, want %q", warns, want)
	}
	js, _ := ss[0].Conversations[0].Turns[0].Expect.Spec("json")
	if j := js.([]JSONExpect)[0]; j.Ops != nil || !reflect.DeepEqual(j.Want, map[string]any{"gte": 1, "lts": 5}) {
		t.Errorf("mixed mapping read as %+v", j)
	}
}

// TestSpecOfTheWrongType: a spec built in code with a value its entry does
// not read fails its check, saying why, rather than panicking or passing.
func TestSpecOfTheWrongType(t *testing.T) {
	got := ExpectSpec("contains", "refund").Checks(nil)
	if len(got) != 1 {
		t.Fatalf("%d checks", len(got))
	}
	a := got[0].Check(checks.NewObservation(nil, 0))
	if a.Passed || a.Message != "cannot check contains: its value is a string, not the []string its entry reads" {
		t.Errorf("got %+v", a)
	}
	f := FinalSpec("handoff", "yes").CheckFinal(nil)
	if f.Passed || f.Check != "final.handoff" || f.Message != "cannot check final handoff: its value is a string, not the bool its entry reads" {
		t.Errorf("final: got %+v", f)
	}
	if u := ExpectSpec("contain", nil).Checks(nil)[0].Check(checks.NewObservation(nil, 0)); u.Passed || u.Message != `evalrun has no check named "contain"` {
		t.Errorf("unknown: got %+v", u)
	}
}
