package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
)

// ErrCorrupt is in the error of ReadRecord for a record that no evalrun can
// have written as it is: one edited, or damaged.
var ErrCorrupt = errors.New("corrupt record")

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
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
	}
	if err := RefreshLoad(&run); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
	}
	if err := checkTest(&run); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
	}
	if err := checkCounts(&run); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
	}
	if err := checkTimelineTotals(run.Load); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
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

// timeSlack is how far apart two times of a record may be that load writes
// from one instant: they are rounded apart (ms with µs, RFC 3339 with
// nanoseconds), never by more.
const timeSlack = time.Millisecond

// checkTest checks that a record's test times agree with each other and
// with the run's, as load writes them: started_at is test.start, the end
// is not before the start, and test.late_ms is how far test.start came
// after test.planned_start. merge orders and judges the shards by these
// times, so an edited one is refused here, where it can be named, rather
// than read as shards that did not overlap.
func checkTest(run *results.Run) error {
	t := run.Test
	if t == nil || run.Load == nil {
		return nil
	}
	stamp := func(at time.Time) string { return at.UTC().Format(time.RFC3339Nano) }
	if t.End.Before(t.Start) {
		return fmt.Errorf("test.start %s is after the record's own test.end %s; a run ends after it begins, so one was edited",
			stamp(t.Start), stamp(t.End))
	}
	if d := run.StartedAt.Sub(t.Start).Abs(); d > timeSlack {
		return fmt.Errorf("started_at %s and test.start %s differ by %v; load writes both from the same instant, so one was edited",
			stamp(run.StartedAt), stamp(t.Start), d.Round(time.Microsecond))
	}
	span := time.Duration(run.DurationMS * float64(time.Millisecond))
	if t.RanMS != 0 && run.Interrupted == "" {
		return fmt.Errorf("test.ran_ms is %v, but the record has no interrupted; load writes how long a run ran only when it was stopped early, so one was edited", t.RanMS)
	}
	if ran := t.End.Sub(t.Start); !(t.RanMS <= durationMS(ran)+float64(timeSlack.Milliseconds())) {
		return fmt.Errorf("test.ran_ms is %v, but the run lasted %v ms from test.start to test.end; it cannot have run longer than it lasted, so one was edited", t.RanMS, durationMS(ran))
	}
	if len(t.Parts) > 0 {
		// A merged record spans its parts, and its lateness is theirs.
		return checkParts(run, stamp)
	}
	if d := t.End.Sub(t.Start.Add(span)).Abs(); d > timeSlack {
		return fmt.Errorf("test.end %s is %v away from test.start %s plus duration_ms %v; load writes the end as the start plus the run's duration, so one was edited",
			stamp(t.End), d.Round(time.Microsecond), stamp(t.Start), run.DurationMS)
	}
	want := 0.0
	if t.PlannedStart != nil {
		want = max(float64(t.Start.Sub(*t.PlannedStart).Microseconds())/1000, 0)
	}
	if math.Abs(t.LateMS-want) > float64(timeSlack.Milliseconds()) {
		planned := "it has no test.planned_start, so it cannot have been late"
		if t.PlannedStart != nil {
			planned = fmt.Sprintf("test.start %s is %v ms after test.planned_start %s", stamp(t.Start), want, stamp(*t.PlannedStart))
		}
		return fmt.Errorf("test.late_ms is %v, but %s; load writes the one from the others, so one was edited", t.LateMS, planned)
	}
	return nil
}

// checkParts checks a merged record's times against its parts', as merge
// writes them (load/merge_identity.go): the test spans from the first
// part's start to the last one's end, and each part's own times hold
// together as a record's do.
func checkParts(run *results.Run, stamp func(time.Time) string) error {
	t := run.Test
	if t.RanMS != 0 {
		// Each part says how long it ran; the merge ran to its last end.
		return fmt.Errorf("test.ran_ms is %v on a merged record; a merge says how long each part ran in test.parts, never its own, so it was edited", t.RanMS)
	}
	first, last := t.Parts[0].Start, t.Parts[0].End
	for i, p := range t.Parts {
		if p.End.Before(p.Start) {
			return fmt.Errorf("test.parts[%d] (%s) starts at %s, after its end %s, so one was edited", i, PartName(p), stamp(p.Start), stamp(p.End))
		}
		if p.RanMS != 0 && p.Interrupted == "" {
			return fmt.Errorf("test.parts[%d] (%s) has ran_ms %v but no interrupted; only a part stopped early says how long it ran, so one was edited", i, PartName(p), p.RanMS)
		}
		if ran := durationMS(p.End.Sub(p.Start)); !(p.RanMS <= ran+float64(timeSlack.Milliseconds())) {
			return fmt.Errorf("test.parts[%d] (%s) has ran_ms %v, but it lasted %v ms from its start to its end, so one was edited", i, PartName(p), p.RanMS, ran)
		}
		if p.Start.Before(first) {
			first = p.Start
		}
		if p.End.After(last) {
			last = p.End
		}
	}
	if d := t.End.Sub(last).Abs(); d > timeSlack {
		return fmt.Errorf("test.end %s is not the latest end of test.parts, %s; a merge ends when its last part does, so one was edited", stamp(t.End), stamp(last))
	}
	if d := t.Start.Sub(first).Abs(); d > timeSlack {
		return fmt.Errorf("test.start %s is not the earliest start of test.parts, %s; a merge begins when its first part does, so one was edited", stamp(t.Start), stamp(first))
	}
	return nil
}

func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// checkCounts checks that a load record's counts agree with each other as
// load writes them: a late start is a start; each conversation sampled is
// one of the summary's, so no verdict is sampled more often than the
// summary counts it. A merge adds these up, so they hold for it too.
// (Started plus dropped is the schedule's count of starts due, but the
// records load's own tests build by hand do not keep to it, so it is not
// checked here.)
func checkCounts(run *results.Run) error {
	l, s := run.Load, run.Summary
	if l == nil {
		return nil
	}
	if l.Late > l.Started {
		return fmt.Errorf("load.late is %d, but load.started is %d; a late start is a start, so one was edited", l.Late, l.Started)
	}
	sampled := map[results.Status]int{}
	for _, c := range run.Conversations {
		sampled[c.Status]++
	}
	for _, v := range []struct {
		status results.Status
		key    string
		n      int
	}{
		{results.Passed, "summary.passed", s.Passed}, {results.Failed, "summary.failed", s.Failed},
		{results.Errored, "summary.errored", s.Errored}, {results.Unfinished, "summary.unfinished", s.Unfinished},
		{results.Flaky, "summary.flaky", s.Flaky}, {results.Skipped, "summary.skipped", s.Skipped},
	} {
		if n := sampled[v.status]; n > v.n {
			return fmt.Errorf("conversations samples %d %s conversations, but %s is %d; every one sampled is counted there, so one was edited", n, v.status, v.key, v.n)
		}
	}
	return nil
}

// checkTimelineTotals checks that a load timeline adds up to the record's
// totals, as the recorder writes it (load/timeline.go): every conversation
// begun is in the interval it began in, every turn in the one it finished
// in, and the errors are the turns' and the session creations' that
// errored. A record without a timeline passes.
func checkTimelineTotals(l *results.Load) error {
	if l == nil || len(l.Timeline) == 0 {
		return nil
	}
	var started, turns, errs int64
	for _, iv := range l.Timeline {
		started += iv.Started
		turns += iv.Turns
		errs += iv.Errors
	}
	switch {
	case started != int64(l.Started):
		return fmt.Errorf("load.timeline's started add up to %d, but load.started is %d; the timeline counts every conversation begun, so one was edited", started, l.Started)
	case turns != l.Overall.Count:
		return fmt.Errorf("load.timeline's turns add up to %d, but load.overall.count is %d; the timeline counts every turn, so one was edited", turns, l.Overall.Count)
	case errs != l.Overall.Errors+l.Session.Errors:
		return fmt.Errorf("load.timeline's errors add up to %d, but load.overall.errors and load.session.errors to %d; the timeline counts every error, so one was edited", errs, l.Overall.Errors+l.Session.Errors)
	}
	return nil
}
