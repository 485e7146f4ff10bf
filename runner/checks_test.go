package runner

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evalrun/evalrun/assert"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/suites"
)

// TestChecksOfBuildsPlainExpectsOnce: an expect without templates gets the
// same checks on every turn; one with templates gets them filled anew.
func TestChecksOfBuildsPlainExpectsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	const suite = `provider: {type: opencx, base_url: sim}
vars: {word: x}
conversations:
  - name: c
    turns:
      - user: hello
        expect: {contains: hello, regex: "TCK-\\d+"}
      - user: again
        expect: {contains: "{{word}}"}
`
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	ss, err := suites.Load(path, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	turns := ss[0].Conversations[0].Turns
	plain, templated := turns[0].Expect, turns[1].Expect

	first, second := checksOf(plain, nil), checksOf(plain, map[string]string{"word": "y"})
	if len(first) != 2 || len(second) != 2 || &first[0] != &second[0] {
		t.Errorf("a plain expect's checks were built twice: %v, %v", first, second)
	}

	reply := assert.NewObservation(&providers.Reply{Text: "a b"}, time.Millisecond)
	for _, tc := range []struct {
		word string
		pass bool
	}{{"a", true}, {"z", false}, {"b", true}} {
		checks := checksOf(templated, map[string]string{"word": tc.word})
		if len(checks) != 1 {
			t.Fatalf("word %q: %d checks, want 1", tc.word, len(checks))
		}
		if got := checks[0].Check(reply).Passed; got != tc.pass {
			t.Errorf("contains {{word}} with word %q on %q: passed %v, want %v", tc.word, "a b", got, tc.pass)
		}
	}
}
