package runner

import (
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// A turn slower than the histograms' highest value (an hour) still counts:
// it is recorded at the top of the range, not dropped, so a run whose only
// slow turn took hours cannot report a small p99.
func TestSummaryKeepsTurnsAboveTheHistogramRange(t *testing.T) {
	s := &suites.Suite{Name: "s"}
	tl := &tally{suite: s, result: &results.Conversation{Status: results.Passed}}
	tl.outs = []*Outcome{{Turns: []TurnOutcome{
		{Latency: 10 * time.Millisecond},
		{Latency: 3 * time.Hour},
	}}}
	run := &results.Run{Suites: []results.Suite{{Name: "s"}}}
	summarise(run, []*suites.Suite{s}, []*tally{tl})
	if run.Summary.Turns != 2 {
		t.Fatalf("turns %d, want 2", run.Summary.Turns)
	}
	if got := run.Summary.LatencyMS.P99; got < float64(59*time.Minute/time.Millisecond) {
		t.Errorf("p99 %v ms: the 3-hour turn was dropped", got)
	}
}
