package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evalrun/evalrun/assert"
	"github.com/evalrun/evalrun/checks"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/results"
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

// serviceCheck stands for a check that asks an outside service (the LLM
// judge) for its verdict.
type serviceCheck struct{ err error }

func (serviceCheck) Name() string { return "judge" }

func (serviceCheck) Check(*assert.Observation) results.Assertion {
	return results.Assertion{Check: "judge", Message: "needs the judge"}
}

func (c serviceCheck) CheckContext(ctx context.Context, o *assert.Observation, _ assert.Services) (results.Assertion, error) {
	if c.err != nil {
		return results.Assertion{}, c.err
	}
	return results.Assertion{Check: "judge", Passed: true}, nil
}

var _ checks.ServiceCheck = serviceCheck{}

// TestServiceCheckOutageIsErrored: a check whose service gives no verdict
// makes the conversation errored, naming the check, never failed; when the
// service answers, its verdict is the check's.
func TestServiceCheckOutageIsErrored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	const suite = `provider: {type: opencx, base_url: sim}
conversations:
  - name: c
    turns:
      - user: hello
        expect: {contains: hello}
`
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		err    error
		status results.Status
		reason string
	}{
		{"answers", nil, results.Passed, ""},
		{"outage", errors.New("judge: 503 Service Unavailable after 2 retries"), results.Errored,
			"turn 1: check judge: judge: 503 Service Unavailable after 2 retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss, err := suites.Load(path, suites.Options{LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				t.Fatal(err)
			}
			s := ss[0]
			e := s.Conversations[0].Turns[0].Expect
			// A check whose service fails on demand, put where checksOf
			// finds the checks of a plain expect.
			compiled.Store(e, []assert.Check{serviceCheck{err: tc.err}})
			defer compiled.Delete(e)
			prov := stubProvider{reply: &providers.Reply{Text: "hello"}}
			j := &job{suite: s, conv: s.Conversations[0], provider: prov, runID: "t"}
			o := j.run(context.Background())
			if o.Status != tc.status || o.Reason != tc.reason {
				t.Errorf("status %s, reason %q; want %s, %q", o.Status, o.Reason, tc.status, tc.reason)
			}
			// The check's service failed, not the bot: the turn is no
			// request error and keeps its latency.
			if tc.err != nil && (!o.Turns[0].CheckErrored || o.Turns[0].Errored || o.Turns[0].Failed) {
				t.Errorf("turn check-errored %v, errored %v, failed %v; want check-errored only",
					o.Turns[0].CheckErrored, o.Turns[0].Errored, o.Turns[0].Failed)
			}
		})
	}
}
