package baseline

import (
	"fmt"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// absent stands for a conversation one record does not have.
const absent results.Status = ""

// TestClassifyEveryPair pins the bucket of every pair of verdicts, and
// whether the pair fails the build with a baseline and with --fail-on any.
// An anchor conversation that passes in both keeps every pair comparable.
func TestClassifyEveryPair(t *testing.T) {
	const (
		P, F, E, K = results.Passed, results.Failed, results.Errored, results.Flaky
		S, U, A    = results.Skipped, results.Unfinished, absent
	)
	tests := []struct {
		was, now results.Status
		bucket   string
		gate     bool // fails the build with the baseline
		plain    bool // fails the build with --fail-on any
	}{
		{P, P, "unchanged", false, false},
		{P, F, "regressed", true, true},
		{P, E, "regressed", true, true},
		{P, K, "unchanged", false, false},
		{P, S, "not compared", false, false},
		{P, U, "not compared", true, true},
		{P, A, "removed", false, false},

		{F, P, "fixed", false, false},
		{F, F, "still failing", false, true},
		{F, E, "still failing", true, true},
		{F, K, "fixed", false, false},
		{F, S, "not compared", false, false},
		{F, U, "not compared", true, true},
		{F, A, "removed", false, false},

		{E, P, "fixed", false, false},
		{E, F, "still failing", false, true},
		{E, E, "still failing", true, true},
		{E, K, "fixed", false, false},
		{E, S, "not compared", false, false},
		{E, U, "not compared", true, true},
		{E, A, "removed", false, false},

		{K, P, "unchanged", false, false},
		{K, F, "regressed", true, true},
		{K, E, "regressed", true, true},
		{K, K, "unchanged", false, false},
		{K, S, "not compared", false, false},
		{K, U, "not compared", true, true},
		{K, A, "removed", false, false},

		{S, P, "not compared", false, false},
		{S, F, "not compared", true, true},
		{S, E, "not compared", true, true},
		{S, K, "not compared", false, false},
		{S, S, "unchanged", false, false},
		{S, U, "not compared", true, true},
		{S, A, "removed", false, false},

		{U, P, "not compared", false, false},
		{U, F, "not compared", true, true},
		{U, E, "not compared", true, true},
		{U, K, "not compared", false, false},
		{U, S, "not compared", false, false},
		{U, U, "not compared", true, true},
		{U, A, "removed", false, false},

		{A, P, "new", false, false},
		{A, F, "new", true, true},
		{A, E, "new", true, true},
		{A, K, "new", false, false},
		{A, S, "new", false, false},
		{A, U, "new", true, true},
	}
	all := []results.Status{P, F, E, K, S, U, A}
	if want := len(all)*len(all) - 1; len(tests) != want {
		t.Fatalf("%d cases, want every pair but absent/absent: %d", len(tests), want)
	}
	seen := map[[2]results.Status]bool{}
	for _, tc := range tests {
		pair := [2]results.Status{tc.was, tc.now}
		if seen[pair] {
			t.Fatalf("pair %v twice", pair)
		}
		seen[pair] = true
		t.Run(fmt.Sprintf("%s->%s", name(tc.was), name(tc.now)), func(t *testing.T) {
			base := record("base", conv("anchor", P))
			now := record("now", conv("anchor", P))
			if tc.was != A {
				base.Conversations = append(base.Conversations, conv("c", tc.was))
			}
			if tc.now != A {
				now.Conversations = append(now.Conversations, conv("c", tc.now))
			}
			cmp, err := Compare(base, now)
			if err != nil {
				t.Fatal(err)
			}
			got := buckets(cmp)
			if len(got) != 1 || got[0].bucket != tc.bucket {
				t.Fatalf("buckets %v, want only %q", got, tc.bucket)
			}
			if ch := got[0].change; ch != nil && (ch.Suite != "s" || ch.Name != "c" || ch.Was != tc.was || ch.Now != tc.now) {
				t.Errorf("change %+v, want s/c %s -> %s", *ch, tc.was, tc.now)
			}
			if fail, why := Gate(cmp, now, false); fail != tc.gate {
				t.Errorf("Gate with baseline = %v (%v), want %v", fail, why, tc.gate)
			}
			if fail, why := Gate(cmp, now, true); fail != tc.plain {
				t.Errorf("Gate with --fail-on any = %v (%v), want %v", fail, why, tc.plain)
			}
		})
	}
}

func name(s results.Status) string {
	if s == absent {
		return "absent"
	}
	return string(s)
}

type placed struct {
	bucket string
	change *results.Change
}

// buckets lists where conversation s/c landed; the anchor counts as one
// unchanged conversation and is left out.
func buckets(c *results.Comparison) []placed {
	var out []placed
	for _, b := range []struct {
		name    string
		changes []results.Change
	}{
		{"regressed", c.Regressed}, {"fixed", c.Fixed}, {"new", c.New}, {"removed", c.Removed},
		{"still failing", c.StillFailing}, {"not compared", c.NotCompared},
	} {
		for i := range b.changes {
			out = append(out, placed{b.name, &b.changes[i]})
		}
	}
	for range c.Unchanged - 1 {
		out = append(out, placed{"unchanged", nil})
	}
	return out
}
