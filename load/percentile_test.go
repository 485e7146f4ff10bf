package load

import (
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/threshold"
)

// ninetyNine is 99 one-turn plays: 98 of at most 680ms and one of 1.705s.
// The standard p99 of 99 samples is the 99th; rounding the rank, as
// hdrhistogram-go's ValueAtQuantile does, takes the 98th.
func ninetyNine() []runner.Outcome {
	os := make([]runner.Outcome, 99)
	for i := range os {
		d := time.Duration(10+i*7) * time.Millisecond // 10ms .. 696ms
		if i == 98 {
			d = 1705 * time.Millisecond
		} else if d > 680*time.Millisecond {
			d = 680 * time.Millisecond
		}
		os[i] = runner.Outcome{Status: results.Passed, Session: time.Millisecond, Duration: d, Turns: []runner.TurnOutcome{{Latency: d}}}
	}
	return os
}

func TestLoadPercentilesAtTheStandardRank(t *testing.T) {
	os := ninetyNine()
	run := recordOf(t, "r", os, make([]time.Duration, len(os)))
	for name, p := range map[string]results.Percentiles{
		"overall": run.Load.Overall.LatencyMS, "overall service": run.Load.Overall.ServiceMS,
		"turn 1": run.Load.Turns[0].LatencyMS, "summary": run.Summary.LatencyMS,
		"conversation": run.Load.Conversation.LatencyMS,
	} {
		if p.P99 < 1705 || p.P99 > 1707 {
			t.Errorf("%s: p99 of 99 = %gms, want the slowest, 1705ms", name, p.P99)
		}
	}
	gate := threshold.MustParse("turn_latency.p99<1s")
	if r := gate.Evaluate(run); r.Passed {
		t.Errorf("%s passed with p99 %gms", gate, r.Measured)
	}

	// A merge recomputes from the histograms: the same rank.
	merged, err := Merge(roundTrip(t, run))
	if err != nil {
		t.Fatal(err)
	}
	if p := merged.Load.Overall.LatencyMS.P99; p < 1705 {
		t.Errorf("merged p99 %gms", p)
	}

	// So does the progress line: p95 of 99 is the 95th sample (rank
	// ceil(94.05)), where rounding would take the 94th.
	r := newRecorder(0, true, time.Now())
	for i := range os {
		r.record(fixture, fixture.Conversations[0], &os[i], 0, time.Now(), time.Now())
	}
	_, _, p95 := r.progress()
	want := os[94].Turns[0].Latency
	if p95 < want || p95 > want+want/500 {
		t.Errorf("progress p95 %v, want %v (the 95th of 99)", p95, want)
	}
}
