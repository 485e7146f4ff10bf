package baseline

import (
	"math"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
)

// TestLatencyPairsTurns checks that latency compares only the turns both
// records have and both answered, per index, with evalrun's own
// percentiles.
func TestLatencyPairsTurns(t *testing.T) {
	errored := func(ms float64, err string) *results.Turn {
		return &results.Turn{LatencyMS: ms, Error: err}
	}
	base := record("base",
		conv("a", results.Passed, turn(100), turn(200)),
		conv("b", results.Passed, turn(300), errored(60000, "opencx: send: timeout")),
		conv("c", results.Passed, turn(400), turn(400)),
		conv("only-base", results.Passed, turn(9999)),
	)
	now := record("now",
		conv("a", results.Passed, turn(150), turn(300), turn(700)),
		conv("b", results.Passed, turn(300), turn(500)),
		conv("c", results.Unfinished, turn(200), errored(50, "stopped: interrupt")),
		conv("only-now", results.Passed, turn(9999)),
	)
	cmp, err := Compare(base, now)
	if err != nil {
		t.Fatal(err)
	}
	ms := func(v ...float64) results.Percentiles {
		ds := make([]time.Duration, len(v))
		for i, x := range v {
			ds[i] = time.Duration(x * float64(time.Millisecond))
		}
		return runner.ExactPercentiles(ds)
	}
	want := []results.LatencyChange{
		// Turn 1 of a, b and c; turn 2 of a only (b's errored in the
		// baseline, c's was stopped now); turn 3 only this run has.
		{Index: 1, Was: ms(100, 300, 400), Now: ms(150, 300, 200)},
		{Index: 2, Was: ms(200), Now: ms(300)},
	}
	if len(cmp.Latency) != len(want) {
		t.Fatalf("latency %+v, want %+v", cmp.Latency, want)
	}
	for i, w := range want {
		got := cmp.Latency[i]
		if got.Index != w.Index || got.Was != w.Was || got.Now != w.Now {
			t.Errorf("index %d: got %+v, want %+v", w.Index, got, w)
		}
		if r := (w.Now.P50 - w.Was.P50) / w.Was.P50; math.Abs(got.P50Change-r) > 1e-9 {
			t.Errorf("index %d: p50 change %v, want %v", w.Index, got.P50Change, r)
		}
		if r := (w.Now.P95 - w.Was.P95) / w.Was.P95; math.Abs(got.P95Change-r) > 1e-9 {
			t.Errorf("index %d: p95 change %v, want %v", w.Index, got.P95Change, r)
		}
	}
	if got := cmp.Latency[1].P50Change; math.Abs(got-0.5) > 1e-9 {
		t.Errorf("turn 2 went from 200 to 300 ms: change %v, want 0.5", got)
	}
}

func TestRelativeOfZero(t *testing.T) {
	tests := []struct{ was, now, want float64 }{
		{0, 0, 0},
		{0, 120, 0}, // no relative change from nothing; JSON has no infinity
		{100, 125, 0.25},
		{200, 100, -0.5},
	}
	for _, tc := range tests {
		if got := relative(tc.was, tc.now); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("relative(%v, %v) = %v, want %v", tc.was, tc.now, got, tc.want)
		}
	}
}
