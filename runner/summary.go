package runner

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// NewHistogram returns an empty latency histogram in evalrun's units (µs).
func NewHistogram() *hdrhistogram.Histogram { return latency.New() }

// Percentiles reads the reported percentiles, in milliseconds, from h, at
// the standard rank (see latency.Rank).
func Percentiles(h *hdrhistogram.Histogram) results.Percentiles { return latency.Percentiles(h) }

// summarise fills run's summary and suite durations; run.Suites[i] is ss[i].
func summarise(run *results.Run, ss []*suites.Suite, convs []*tally) {
	s := &run.Summary
	h := NewHistogram()
	for _, t := range convs {
		countVerdict(s, t.result.Status)
		for _, o := range t.outs {
			for _, tu := range o.Turns {
				switch {
				case tu.Stopped:
					// Cut short by the stop: the service was never
					// given the time to answer, so this is neither a
					// turn it answered nor one it failed.
				case tu.Errored:
					s.Turns++
					s.TurnErrors++
				default:
					s.Turns++
					_ = h.RecordValue(latency.Micros(tu.Latency))
				}
			}
		}
	}
	s.LatencyMS = Percentiles(h)
	// Encoding a histogram in memory cannot fail short of a bug in the
	// library; a record without one still reports, and only merge refuses it.
	s.LatencyHistogram, _ = latency.Encode(h)

	for i := range run.Suites {
		var first, last time.Time
		for _, t := range convs {
			// By suite, not by file: one file may hold several suites.
			if t.suite != ss[i] {
				continue
			}
			for _, o := range t.outs {
				if first.IsZero() || o.began.Before(first) {
					first = o.began
				}
				if end := o.began.Add(o.Duration); end.After(last) {
					last = end
				}
			}
		}
		run.Suites[i].DurationMS = ms(last.Sub(first))
	}
}

// ExactPercentiles computes the percentiles of a few latencies (a
// conversation's turns) exactly, at the same ranks as Percentiles.
func ExactPercentiles(ds []time.Duration) results.Percentiles { return latency.Exact(ds) }

// countVerdicts adds convs to the conversation and verdict counts of s.
func countVerdicts(s *results.Summary, convs []*results.Conversation) {
	for _, c := range convs {
		countVerdict(s, c.Status)
	}
}

// countVerdict counts one conversation with verdict st.
func countVerdict(s *results.Summary, st results.Status) {
	s.Conversations++
	switch st {
	case results.Passed:
		s.Passed++
	case results.Failed:
		s.Failed++
	case results.Errored:
		s.Errored++
	case results.Flaky:
		s.Flaky++
	case results.Skipped:
		s.Skipped++
	case results.Unfinished:
		s.Unfinished++
	}
}
