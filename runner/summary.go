package runner

import (
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// Latencies are recorded in microseconds from 1µs to one hour with three
// significant digits: exact to 0.1% at any scale, in a fixed ~30 KiB.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 3
)

// NewHistogram returns an empty latency histogram in evalrun's units (µs).
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, histDigits)
}

// Percentiles reads the reported percentiles, in milliseconds, from h.
func Percentiles(h *hdrhistogram.Histogram) results.Percentiles {
	if h.TotalCount() == 0 {
		return results.Percentiles{}
	}
	at := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
	return results.Percentiles{P50: at(50), P90: at(90), P95: at(95), P99: at(99), P999: at(99.9), Max: float64(h.Max()) / 1000}
}

// summarise fills run's summary and suite durations; run.Suites[i] is ss[i].
func summarise(run *results.Run, ss []*suites.Suite, convs []*tally) {
	s := &run.Summary
	h := NewHistogram()
	for _, t := range convs {
		c := t.result
		s.Conversations++
		switch c.Status {
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
					_ = h.RecordValue(max(tu.Latency.Microseconds(), histMin))
				}
			}
		}
	}
	s.LatencyMS = Percentiles(h)

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

// ExactPercentiles computes nearest-rank percentiles of a few latencies (a
// conversation's turns), where a histogram would be needless. The small
// epsilon keeps q/100*n from landing a hair above a whole rank through
// floating-point error (99.9% of 1000 is rank 999, not 1000).
func ExactPercentiles(ds []time.Duration) results.Percentiles {
	if len(ds) == 0 {
		return results.Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(q float64) float64 {
		i := int(math.Ceil(q/100*float64(len(s))-1e-9)) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	return results.Percentiles{P50: rank(50), P90: rank(90), P95: rank(95), P99: rank(99), P999: rank(99.9), Max: ms(s[len(s)-1])}
}
