package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
)

// ReadRecord reads the JSON record of a run, as --json writes it, from r,
// and checks that it holds together, so that every report (and a merge) of
// it can rely on what it reads; name is how errors call the record (its
// file). A corrupt record is an error that says which part is wrong, never a
// report of nonsense or a crash.
//
// A load record's percentiles are recomputed from its histograms (see
// RefreshLoad), so that a record written when evalrun rounded percentile
// ranks reports the standard values.
func ReadRecord(r io.Reader, name string) (*results.Run, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var run results.Run
	if err := json.Unmarshal(raw, &run); err != nil {
		return nil, fmt.Errorf("%s: not an evalrun JSON record: %v", name, err)
	}
	if run.Schema != results.Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q (a file written by evalrun --json)", name, run.Schema, results.Schema)
	}
	if err := checkRecord(&run); err != nil {
		return nil, fmt.Errorf("%s: corrupt record: %w", name, err)
	}
	if err := RefreshLoad(&run); err != nil {
		return nil, fmt.Errorf("%s: corrupt record: %w", name, err)
	}
	return &run, nil
}

// checkRecord finds what no run can have written: missing conversations or
// turns, negative counts. A record without a load section is a run record.
func checkRecord(run *results.Run) error {
	for i, c := range run.Conversations {
		if c == nil {
			return fmt.Errorf("conversations[%d] is null", i)
		}
		if c.Runs < 0 || c.PassedRuns < 0 || c.Line < 0 {
			return fmt.Errorf("conversations[%d] has negative counts (runs %d, passed_runs %d, line %d)", i, c.Runs, c.PassedRuns, c.Line)
		}
		for j, t := range c.Turns {
			if t == nil {
				return fmt.Errorf("conversations[%d].turns[%d] is null", i, j)
			}
		}
	}
	s := run.Summary
	counts := []count{
		{"summary.conversations", s.Conversations}, {"summary.passed", s.Passed}, {"summary.failed", s.Failed},
		{"summary.errored", s.Errored}, {"summary.flaky", s.Flaky}, {"summary.skipped", s.Skipped},
		{"summary.unfinished", s.Unfinished}, {"summary.turns", s.Turns}, {"summary.turn_errors", s.TurnErrors},
	}
	if s.Dropped != nil {
		counts = append(counts, count{"summary.dropped", *s.Dropped})
	}
	l := run.Load
	if l != nil {
		counts = append(counts, count{"load.started", l.Started}, count{"load.late", l.Late},
			count{"load.dropped", l.Dropped}, count{"load.vus", l.VUs}, count{"load.max_in_flight", l.MaxInFlight})
	}
	for _, c := range counts {
		if c.n < 0 {
			return fmt.Errorf("%s is %d; counts are never negative", c.key, c.n)
		}
	}
	if l == nil {
		return nil
	}
	for i, ts := range l.Turns {
		if ts.Index != 0 && ts.Index != i+1 {
			return fmt.Errorf("load.turns[%d] has index %d, want %d: the turns are listed in order", i, ts.Index, i+1)
		}
	}
	return nil
}

// count is a field of the record that counts something, by its JSON key.
type count struct {
	key string
	n   int
}

// RefreshLoad recomputes every percentile of run's load record from its
// histograms (metrics and timeline), at the standard rank
// (internal/latency), after checking that each metric's histograms hold
// together with its counts and the turns with overall
// (latency.RefreshLoad). The summary's latencies are those of all turns,
// as load writes them. A run without a load record is left as it is.
func RefreshLoad(run *results.Run) error {
	l := run.Load
	if l == nil {
		return nil
	}
	var errs []error
	if err := latency.RefreshLoad(l); err != nil {
		errs = append(errs, err)
	}
	if l.IntervalMS < 0 {
		errs = append(errs, fmt.Errorf("load.interval_ms is %v; an interval's width is never negative", l.IntervalMS))
	}
	// A timeline out of bounds is refused whole: its histograms are not
	// worth decoding.
	if err := results.CheckTimeline(run); err != nil {
		errs = append(errs, err)
	} else {
		for i := range l.Timeline {
			iv := &l.Timeline[i]
			if iv.Histogram == "" {
				continue
			}
			h, err := latency.Decode(iv.Histogram)
			if err != nil {
				errs = append(errs, fmt.Errorf("load.timeline[%d]: %w", i, err))
				continue
			}
			// Each latency is a turn that finished in the interval; errored
			// turns are among the turns but have none.
			if n := h.TotalCount(); n > iv.Turns {
				errs = append(errs, fmt.Errorf("load.timeline[%d]: the histogram holds %d latencies, but only %d turns finished", i, n, iv.Turns))
				continue
			}
			iv.LatencyMS = latency.Percentiles(h)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if l.Overall.Histogram != "" {
		run.Summary.LatencyMS = l.Overall.LatencyMS
	}
	if l.Overall.Service != "" {
		service := l.Overall.ServiceMS
		run.Summary.ServiceLatencyMS = &service
	}
	return nil
}
