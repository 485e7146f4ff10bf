package assert

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// TestEverydayChecksFromASuite follows the new keys from a suite file to
// their verdicts: decoded by their entries, templates filled, one check per
// item where a key holds a list.
func TestEverydayChecksFromASuite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	const src = `provider: {type: opencx, base_url: sim}
vars: {order: ord_42}
conversations:
  - name: c
    turns:
      - user: hi
        expect:
          contains_any: [refund, return]
          not_regex: ["(?i)error", "{{order}}x"]
          length: {min: 20, max: 80}
          json:
            "$.count": {gt: 40, lte: 42}
            "$.id": {regex: "^{{order}}$"}
            "$.missing": {exists: false}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ss, err := suites.Load(path, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	e := s.Conversations[0].Turns[0].Expect.Expand(s.Vars)
	checks := Turn(e)
	names := []string{"contains_any", "not_regex", "not_regex", "length", "json", "json", "json"}
	if len(checks) != len(names) {
		t.Fatalf("got %d checks, want %d", len(checks), len(names))
	}
	for i, c := range checks {
		if c.Name() != names[i] {
			t.Errorf("check %d is %s, want %s", i, c.Name(), names[i])
		}
	}
	good := &providers.Reply{Text: "Your refund for ord_42 is on its way.", Raw: []byte(`{"count": 42, "id": "ord_42"}`)}
	for _, c := range checks {
		if a := c.Check(NewObservation(good, 0)); !a.Passed {
			t.Errorf("%s: %s", c.Name(), a.Message)
		}
	}
	bad := &providers.Reply{Text: "Error: ord_42x", Raw: []byte(`{"count": 43, "id": "ord_421", "missing": 1}`)}
	want := []string{
		`expected the reply to contain one of "refund", "return", got "Error: ord_42x"`,
		`expected the reply not to match /(?i)error/, but it matched "Error" in "Error: ord_42x"`,
		`expected the reply not to match /ord_42x/, but it matched "ord_42x" in "Error: ord_42x"`,
		`expected a reply of between 20 and 80 characters, got 14 characters: "Error: ord_42x"`,
		`expected $.count to be at most 42, got 43`,
		`expected $.id to be a string matching /^ord_42$/, got "ord_421"`,
		`expected $.missing to be absent, got 1`,
	}
	for i, c := range checks {
		a := c.Check(NewObservation(bad, 0))
		wellFormed(t, a)
		if a.Passed || a.Message != want[i] {
			t.Errorf("%s: passed %v, message\n got %s\nwant %s", c.Name(), a.Passed, a.Message, want[i])
		}
	}
}
