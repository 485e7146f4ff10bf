package baseline

import (
	"reflect"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// TestGateReasons checks the rule and what it says, with and without a
// baseline; TestClassifyEveryPair checks the rule for every pair of verdicts.
func TestGateReasons(t *testing.T) {
	base := record("base",
		conv("was-passing", results.Passed), conv("was-failing", results.Failed),
		conv("was-erroring", results.Errored), conv("was-skipped", results.Skipped))
	tests := []struct {
		name        string
		now         *results.Run
		withBase    []string // reasons with the baseline; nil: passes
		withoutBase []string // reasons without it, or with --fail-on any
	}{
		{
			name:     "all passing",
			now:      record("now", conv("was-passing", results.Passed), conv("was-failing", results.Flaky)),
			withBase: nil, withoutBase: nil,
		},
		{
			name:        "still failing is excused by the baseline only",
			now:         record("now", conv("was-passing", results.Passed), conv("was-failing", results.Failed)),
			withBase:    nil,
			withoutBase: []string{"1 conversation failed"},
		},
		{
			name:        "an error is never excused",
			now:         record("now", conv("was-passing", results.Passed), conv("was-erroring", results.Errored)),
			withBase:    []string{"1 conversation errored"},
			withoutBase: []string{"1 conversation errored"},
		},
		{
			name: "regressions, a new failure and one the baseline never judged",
			now: record("now", conv("was-passing", results.Failed), conv("was-skipped", results.Failed),
				conv("brand-new", results.Failed), conv("was-failing", results.Failed)),
			withBase: []string{
				"1 conversation regressed",
				"2 conversations fail that the baseline did not judge (new, or skipped or unfinished there)",
			},
			withoutBase: []string{"4 conversations failed"},
		},
		{
			name:        "an unfinished conversation",
			now:         record("now", conv("was-passing", results.Unfinished), conv("was-failing", results.Failed)),
			withBase:    []string{"1 conversation is unfinished"},
			withoutBase: []string{"1 conversation failed", "1 conversation is unfinished"},
		},
		{
			name:        "a regression to an error",
			now:         record("now", conv("was-passing", results.Errored)),
			withBase:    []string{"1 conversation regressed", "1 conversation errored"},
			withoutBase: []string{"1 conversation errored"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmp, err := Compare(base, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []struct {
				what      string
				cmp       *results.Comparison
				failOnAny bool
				want      []string
			}{
				{"with the baseline", cmp, false, tc.withBase},
				{"with --fail-on any", cmp, true, tc.withoutBase},
				{"without a baseline", nil, false, tc.withoutBase},
			} {
				fail, why := Gate(g.cmp, tc.now, g.failOnAny)
				if fail != (g.want != nil) || !reflect.DeepEqual(why, g.want) {
					t.Errorf("%s: Gate = %v, %q; want %v, %q", g.what, fail, why, g.want != nil, g.want)
				}
			}
		})
	}
}

func TestGateWithoutARecord(t *testing.T) {
	if fail, why := Gate(nil, nil, false); !fail || len(why) != 1 {
		t.Errorf("Gate(nil, nil) = %v, %q; want a failure that says why", fail, why)
	}
}
