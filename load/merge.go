package load

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
)

// Merge combines the records of load runs that ran side by side, as the
// shards of one test do, into one record. It is exact: the histograms are
// decoded and merged, so the percentiles are those of all the values, as if
// one machine had recorded them. Counts add up; so do the target rate and
// the workload settings (rate, stage targets, vus, max in flight), which
// describe the load of all shards together; durations are the longest. The
// achieved rate and the throughput are those of the merged timeline
// (mergedRates): shards that started apart show the rate they made
// together, not the sum of their own. The record's time span runs from the
// first start to the last end. Load.Shards lists the run ids merged (those
// of the shards of a record that was itself merged), the sampled
// conversations are all of the shards', and Load.Thresholds is left empty,
// to be evaluated again on the merged values. The timelines are laid on one
// grid by absolute time (see mergeTimelines). When every record has a Test,
// so has the merged one, with a Part per record merged (see mergedTest).
//
// Merge checks that each record holds together, not that the records are
// one test: MergeSet does, and is what merges the shards of a test.
func Merge(runs ...*results.Run) (*results.Run, error) {
	return mergeRecords(runs, nil, nil)
}

// mergeRecords is Merge with the records' file names, for errors and parts,
// and, when set is not nil, MergeSet's checks; files may be shorter than
// runs (or nil), and a record without a name is called by its place
// ("record 2 (run b)").
func mergeRecords(runs []*results.Run, files []string, set *MergeOptions) (*results.Run, error) {
	if len(runs) == 0 {
		return nil, errors.New("load: merge: no records")
	}
	name := recordNames(runs, files)
	for i, r := range runs {
		switch {
		case r == nil:
			return nil, fmt.Errorf("load: merge: record %d is missing", i+1)
		case r.Schema != results.Schema:
			return nil, fmt.Errorf("load: merge: %s has schema %q, want %q", name(i), r.Schema, results.Schema)
		case r.Load == nil:
			return nil, fmt.Errorf("load: merge: %s is not a load run: it has no load histograms", name(i))
		case r.Load.Model != runs[0].Load.Model:
			return nil, fmt.Errorf("load: merge: %s is %s-model run, %s %s-model one", name(i), article(r.Load.Model), name(0), article(runs[0].Load.Model))
		}
	}

	for i, r := range runs {
		if err := checkStats(r.Load); err != nil {
			return nil, fmt.Errorf("load: merge: %s: %w", name(i), err)
		}
		if err := results.CheckTimeline(r); err != nil {
			return nil, fmt.Errorf("load: merge: %s: %w", name(i), err)
		}
	}

	// A record merged twice (a glob that also matches an earlier merge, say)
	// would be counted twice: refuse any run id seen in two records.
	seenIn := map[string]int{}
	for i, r := range runs {
		ids := r.Load.Shards
		if len(ids) == 0 {
			ids = []string{r.RunID}
		}
		for _, id := range ids {
			if j, dup := seenIn[id]; dup && id != "" {
				if j < len(files) && i < len(files) && files[i] != "" && filepath.Clean(files[i]) == filepath.Clean(files[j]) {
					return nil, fmt.Errorf("load: merge: %s was given twice (both hold run %s): merging it twice would count it twice; name each record once", files[j], id)
				}
				return nil, fmt.Errorf("load: merge: %s both hold run %s; merging it twice would count it twice", namePair(runs, files, j, i), id)
			}
			seenIn[id] = i
		}
	}
	var incomplete *results.Incomplete
	if set != nil {
		var err error
		if incomplete, err = checkSet(*set, runs, name); err != nil {
			return nil, fmt.Errorf("load: merge: %w", err)
		}
	}

	first := runs[0]
	out := &results.Run{
		Schema: results.Schema, StartedAt: first.StartedAt,
		Suites: []results.Suite{}, Conversations: []*results.Conversation{},
	}
	l := &results.Load{Model: first.Load.Model, Turns: []results.TurnStats{}}
	out.Load = l
	var end time.Time
	var interrupted []string
	ids := map[string]bool{}
	for _, r := range runs {
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if e := r.StartedAt.Add(time.Duration(r.DurationMS * float64(time.Millisecond))); e.After(end) {
			end = e
		}
		if r.Interrupted != "" && !slices.Contains(interrupted, r.Interrupted) {
			interrupted = append(interrupted, r.Interrupted)
		}
		ids[r.RunID] = true

		s := &out.Summary
		s.Passed += r.Summary.Passed
		s.Failed += r.Summary.Failed
		s.Errored += r.Summary.Errored
		s.Flaky += r.Summary.Flaky
		s.Skipped += r.Summary.Skipped
		s.Unfinished += r.Summary.Unfinished
		if j := r.Summary.Judge; j != nil {
			// Each shard asked its own judge clients: their costs add up.
			sum := j.Add(results.JudgeSummary{})
			if s.Judge != nil {
				sum = s.Judge.Add(*j)
			}
			s.Judge = &sum
		}
		out.Suites = mergeSuites(out.Suites, r.Suites)
		for _, c := range r.Conversations {
			if c != nil {
				out.Conversations = append(out.Conversations, c)
			}
		}

		rl := r.Load
		if len(rl.Shards) > 0 {
			l.Shards = append(l.Shards, rl.Shards...)
		} else {
			l.Shards = append(l.Shards, r.RunID)
		}
		l.Rate += rl.Rate
		l.VUs += rl.VUs
		l.MaxInFlight += rl.MaxInFlight
		l.DurationMS = max(l.DurationMS, rl.DurationMS)
		l.GraceMS = max(l.GraceMS, rl.GraceMS)
		l.ThinkTimeMS = max(l.ThinkTimeMS, rl.ThinkTimeMS)
		l.Started += rl.Started
		l.Late += rl.Late
		l.Dropped += rl.Dropped
		l.TargetRate += rl.TargetRate
	}
	out.DurationMS = float64(end.Sub(out.StartedAt).Microseconds()) / 1000
	out.Interrupted = strings.Join(interrupted, "; ")
	out.RunID = first.RunID
	if len(ids) > 1 {
		sum := sha256.Sum256([]byte(strings.Join(l.Shards, "\n")))
		out.RunID = "merged-" + hex.EncodeToString(sum[:6])
	}
	l.Stages = mergeStages(runs)

	var err error
	var turns [][]results.TurnStats
	for _, r := range runs {
		for i, ts := range r.Load.Turns {
			if len(turns) <= i {
				turns = append(turns, nil)
			}
			turns[i] = append(turns[i], ts) // checkStats: turn i+1
		}
	}
	for i, tss := range turns {
		ts, e := mergeStats(i+1, tss)
		err = errors.Join(err, e)
		l.Turns = append(l.Turns, ts)
	}
	pick := func(f func(*results.Load) results.TurnStats) []results.TurnStats {
		var out []results.TurnStats
		for _, r := range runs {
			out = append(out, f(r.Load))
		}
		return out
	}
	var e error
	l.Overall, e = mergeStats(0, pick(func(l *results.Load) results.TurnStats { return l.Overall }))
	err = errors.Join(err, e)
	l.Conversation, e = mergeStats(0, pick(func(l *results.Load) results.TurnStats { return l.Conversation }))
	err = errors.Join(err, e)
	l.Session, e = mergeStats(0, pick(func(l *results.Load) results.TurnStats { return l.Session }))
	err = errors.Join(err, e)
	if err != nil {
		return nil, fmt.Errorf("load: merge: %w", err)
	}
	if l.IntervalMS, l.Timeline, err = mergeTimelines(runs, out.StartedAt); err != nil {
		return nil, fmt.Errorf("load: merge: %w", err)
	}
	parts := allParts(runs, files, name)
	l.AchievedRate, l.Throughput = mergedRates(l, parts)
	out.Test = mergedTest(runs, parts)
	out.Incomplete = incomplete
	summarise(out)
	return out, nil
}

// checkStats checks what Merge reads of a record's metrics: turn i is turn
// index i+1 (an index is never a reason to allocate), every metric's counts
// and histograms hold together, and the turns with overall (see
// latency.RefreshLoad). The record is left as it was.
func checkStats(l *results.Load) error {
	for i, ts := range l.Turns {
		if ts.Index != 0 && ts.Index != i+1 {
			return fmt.Errorf("load.turns[%d] has index %d, want %d: the turns are listed in order", i, ts.Index, i+1)
		}
	}
	c := *l
	c.Turns = slices.Clone(l.Turns)
	return latency.RefreshLoad(&c)
}

// mergeStats merges the same metric of several records.
func mergeStats(index int, tss []results.TurnStats) (results.TurnStats, error) {
	co, service := latency.New(), latency.New()
	var count, errs int64
	for _, ts := range tss {
		c, s, err := Histograms(ts)
		if err != nil {
			return results.TurnStats{}, err
		}
		// Merge loses only counts that would take the total past int64,
		// which no real run reaches: the record is corrupt.
		if co.Merge(c)+service.Merge(s) > 0 {
			return results.TurnStats{}, fmt.Errorf("histogram counts add up past %d", int64(math.MaxInt64))
		}
		count += ts.Count
		errs += ts.Errors
	}
	return Stats(index, count, errs, co, service)
}

// mergeSuites adds the suites of add that into lacks, and widens the
// duration of those it has.
func mergeSuites(into, add []results.Suite) []results.Suite {
	for _, s := range add {
		i := slices.IndexFunc(into, func(t results.Suite) bool {
			return t.Name == s.Name && t.File == s.File && t.Provider == s.Provider
		})
		if i < 0 {
			into = append(into, s)
			continue
		}
		into[i].DurationMS = max(into[i].DurationMS, s.DurationMS)
	}
	return into
}

// mergeStages adds up the stage targets when every record has the same
// stage durations, and otherwise keeps the first record's stages.
func mergeStages(runs []*results.Run) []results.Stage {
	out := slices.Clone(runs[0].Load.Stages)
	for _, r := range runs[1:] {
		st := r.Load.Stages
		if len(st) != len(out) {
			return runs[0].Load.Stages
		}
		for i := range st {
			if st[i].DurationMS != out[i].DurationMS {
				return runs[0].Load.Stages
			}
		}
	}
	for _, r := range runs[1:] {
		for i, s := range r.Load.Stages {
			out[i].Target += s.Target
		}
	}
	return out
}

// article is "a closed" or "an open": a model's name with its article.
func article(model string) string {
	if model != "" && strings.ContainsRune("aeiou", rune(model[0])) {
		return "an " + model
	}
	return "a " + model
}
