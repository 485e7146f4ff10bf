package runner

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/suites"
)

// MergeOptions says how strict Merge is; the zero value is strictest.
type MergeOptions struct {
	// AllowPartial merges a set of shard records that lacks some shards;
	// their conversations are then absent from the merged record.
	AllowPartial bool
}

// ShardSetError is Merge's error when shard records do not make up one
// whole set: every shard of the same N, each exactly once.
type ShardSetError struct {
	Count   int   // N, as the records give it
	Missing []int // shard indices no record holds, in order
}

func (e *ShardSetError) Error() string {
	ks := make([]string, len(e.Missing))
	for i, k := range e.Missing {
		ks[i] = fmt.Sprint(k)
	}
	what := "shard " + ks[0] + " is"
	if len(ks) > 1 {
		what = "shards " + strings.Join(ks, ", ") + " are"
	}
	return fmt.Sprintf("%s missing from the set of %d (K counts from 0)", what, e.Count)
}

// Merge combines the records of `evalrun run`, typically the shards of one
// `run --shard K/N` set that CI ran as parallel jobs, into the record one
// run over every conversation would have written, as far as verdicts go:
//
//   - the conversations are those of every record, in the order of the
//     suites and, within a suite, of their lines in the file; a conversation
//     (suite name and name) found twice, in two records or in one, is
//     refused;
//   - the summary counts the verdicts of those conversations, adds up the
//     turns and turn errors, and reads the latency percentiles from the
//     records' latency histograms merged, so they are exact; a record
//     without a histogram (from an older evalrun) cannot be merged;
//   - every suite of any record is listed once by name (as the first
//     record has it), with the longest of its durations: the shards ran
//     side by side;
//   - the record runs from the first start to the last end, is interrupted
//     if any record was (the causes joined), and lists in Merged the run id
//     and shard of every record it was made from (or of the records a
//     merged input was made from).
//
// Records carrying shard information must be shards of the same N, of the
// same suites, with no index twice and, unless opts.AllowPartial, none
// missing (a *ShardSetError). A record that has no shard can be merged only
// with other such records: a whole run and a shard would overlap. Load
// records are refused: load.Merge merges those. A run's comparison with a
// baseline is not carried over; it describes that record alone.
func Merge(runs []*results.Run, opts MergeOptions) (*results.Run, error) {
	if len(runs) == 0 {
		return nil, errors.New("runner: merge: no records")
	}
	for i, r := range runs {
		switch {
		case r == nil:
			return nil, fmt.Errorf("runner: merge: record %d is missing", i+1)
		case r.Schema != results.Schema:
			return nil, fmt.Errorf("runner: merge: record %d (run %s) has schema %q, want %q", i+1, r.RunID, r.Schema, results.Schema)
		case r.Load != nil:
			return nil, fmt.Errorf("runner: merge: record %d (run %s) is a load record; merge load records with each other, not with run records", i+1, r.RunID)
		}
	}
	if err := checkShards(runs, opts.AllowPartial); err != nil {
		return nil, fmt.Errorf("runner: merge: %w", err)
	}

	out := &results.Run{
		Schema:        results.Schema,
		StartedAt:     runs[0].StartedAt,
		Suites:        []results.Suite{},
		Conversations: []*results.Conversation{},
	}
	var end time.Time
	var interrupted []string
	seen := map[[2]string]int{} // conversation key → the record it came from
	h := latency.New()
	for i, r := range runs {
		out.Merged = append(out.Merged, parts(r)...)
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if e := r.StartedAt.Add(time.Duration(r.DurationMS * float64(time.Millisecond))); e.After(end) {
			end = e
		}
		if r.Interrupted != "" && !slices.Contains(interrupted, r.Interrupted) {
			interrupted = append(interrupted, r.Interrupted)
		}
		out.Suites = widenSuites(out.Suites, r.Suites)
		for _, c := range r.Conversations {
			if c == nil {
				continue
			}
			key := [2]string{c.Suite, c.Name}
			if j, dup := seen[key]; dup && j == i {
				return nil, fmt.Errorf("runner: merge: record %d (run %s) holds conversation %q of suite %q twice; a run records each conversation once",
					i+1, r.RunID, c.Name, c.Suite)
			} else if dup {
				return nil, fmt.Errorf("runner: merge: records %d (run %s) and %d (run %s) both hold conversation %q of suite %q; a conversation belongs to one shard",
					j+1, runs[j].RunID, i+1, r.RunID, c.Name, c.Suite)
			}
			seen[key] = i
			out.Conversations = append(out.Conversations, c)
		}

		s, rs := &out.Summary, r.Summary
		if rs.Turns < 0 || rs.TurnErrors < 0 || rs.TurnErrors > rs.Turns {
			return nil, fmt.Errorf("runner: merge: record %d (run %s): summary.turns %d and turn_errors %d do not hold together", i+1, r.RunID, rs.Turns, rs.TurnErrors)
		}
		s.Turns += rs.Turns
		s.TurnErrors += rs.TurnErrors
		if rs.Judge != nil {
			// Each shard had its own judge clients and caches: their
			// costs add up.
			sum := rs.Judge.Add(results.JudgeSummary{})
			if s.Judge != nil {
				sum = s.Judge.Add(*rs.Judge)
			}
			s.Judge = &sum
		}
		rh, err := latency.Decode(rs.LatencyHistogram)
		if err != nil {
			return nil, fmt.Errorf("runner: merge: record %d (run %s): summary.latency_histogram: %w", i+1, r.RunID, err)
		}
		if n, want := rh.TotalCount(), int64(rs.Turns-rs.TurnErrors); n != want {
			if rs.LatencyHistogram == "" {
				return nil, fmt.Errorf("runner: merge: record %d (run %s) has no summary.latency_histogram (written by an older evalrun?), so its %d latencies cannot be merged exactly; run it again",
					i+1, r.RunID, want)
			}
			return nil, fmt.Errorf("runner: merge: record %d (run %s): summary.latency_histogram holds %d latencies, but turns - turn_errors is %d", i+1, r.RunID, n, want)
		}
		if lost := h.Merge(rh); lost > 0 {
			return nil, fmt.Errorf("runner: merge: record %d (run %s): latency counts add up past int64", i+1, r.RunID)
		}
	}

	// The order one run would have: suites as listed, conversations by line.
	suiteAt := map[string]int{}
	for i, s := range out.Suites {
		suiteAt[s.Name] = i
	}
	slices.SortStableFunc(out.Conversations, func(a, b *results.Conversation) int {
		ia, oka := suiteAt[a.Suite]
		ib, okb := suiteAt[b.Suite]
		if !oka {
			ia = len(out.Suites)
		}
		if !okb {
			ib = len(out.Suites)
		}
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a.Line, b.Line))
	})

	countVerdicts(&out.Summary, out.Conversations)
	out.Summary.LatencyMS = latency.Percentiles(h)
	var err error
	if out.Summary.LatencyHistogram, err = latency.Encode(h); err != nil {
		return nil, fmt.Errorf("runner: merge: %w", err)
	}
	out.DurationMS = ms(end.Sub(out.StartedAt))
	out.Interrupted = strings.Join(interrupted, "; ")
	out.RunID = runs[0].RunID
	if len(out.Merged) > 1 {
		ids := make([]string, len(out.Merged))
		for i, m := range out.Merged {
			ids[i] = m.RunID
		}
		sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
		out.RunID = "merged-" + hex.EncodeToString(sum[:6])
	}
	return out, nil
}

// parts are the records r stands for: itself, or those it was merged from.
func parts(r *results.Run) []results.MergedRun {
	if len(r.Merged) > 0 {
		return r.Merged
	}
	return []results.MergedRun{{RunID: r.RunID, Shard: r.Shard}}
}

// checkShards refuses what would count a conversation twice or mix what
// does not belong together: a run id twice, shards of different N or of
// different suites, a shard index twice, shards beside a whole run; and,
// unless partial is allowed, a set of shards with one missing.
func checkShards(runs []*results.Run, partial bool) error {
	type from struct {
		record int
		part   results.MergedRun
	}
	var all []from
	for i, r := range runs {
		for _, p := range parts(r) {
			all = append(all, from{i, p})
		}
	}
	ids := map[string]int{}
	for _, f := range all {
		if j, dup := ids[f.part.RunID]; dup && f.part.RunID != "" {
			return fmt.Errorf("records %d and %d both hold run %s; merging it twice would count it twice", j+1, f.record+1, f.part.RunID)
		}
		ids[f.part.RunID] = f.record
	}

	var first *from
	for i := range all {
		if all[i].part.Shard != nil {
			first = &all[i]
			break
		}
	}
	if first == nil {
		return nil // whole runs, of different suites: their conversations are checked one by one
	}
	n := first.part.Shard.Count
	if n < 1 || n > suites.MaxShards {
		return fmt.Errorf("record %d (run %s) says it is shard %d of %d; want 0 <= K < N <= %d", first.record+1, first.part.RunID, first.part.Shard.Index, n, suites.MaxShards)
	}
	// By the shards seen, not by N: N is the records' word, and a record
	// is any file.
	held := map[int]int{} // shard index → 1 + the record holding it
	for _, f := range all {
		sh := f.part.Shard
		switch {
		case sh == nil:
			return fmt.Errorf("record %d (run %s) is a whole run and record %d (run %s) a shard of %d; merge the shards of one set only",
				f.record+1, f.part.RunID, first.record+1, first.part.RunID, n)
		case sh.Count != n:
			return fmt.Errorf("record %d (run %s) is a shard of %d and record %d (run %s) one of %d; merge the shards of one set only",
				f.record+1, f.part.RunID, sh.Count, first.record+1, first.part.RunID, n)
		case sh.Index < 0 || sh.Index >= n:
			return fmt.Errorf("record %d (run %s) says it is shard %d of %d", f.record+1, f.part.RunID, sh.Index, n)
		case held[sh.Index] != 0:
			return fmt.Errorf("records %d and %d are both shard %d of %d", held[sh.Index], f.record+1, sh.Index, n)
		}
		held[sh.Index] = f.record + 1
	}
	// Every shard lists every suite of the run, so shards that list
	// different suites were run over different suite sets.
	names := func(r *results.Run) []string {
		var out []string
		for _, s := range r.Suites {
			out = append(out, s.Name)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	for i, r := range runs[1:] {
		if a, b := names(runs[0]), names(r); !slices.Equal(a, b) {
			return fmt.Errorf("record 1 (run %s) ran suites %s and record %d (run %s) suites %s; the shards of one set run the same suites",
				runs[0].RunID, strings.Join(a, ", "), i+2, r.RunID, strings.Join(b, ", "))
		}
	}
	if partial {
		return nil
	}
	if e := MissingShards(runs); e != nil {
		return e
	}
	return nil
}

// MissingShards says which shards of the set runs belong to none of them
// holds; nil when none is missing or the records carry no shard
// information.
func MissingShards(runs []*results.Run) *ShardSetError {
	var n int
	held := map[int]bool{}
	for _, r := range runs {
		if r == nil {
			continue
		}
		for _, p := range parts(r) {
			// A count past the cap is one Merge refuses; listing the
			// shards it lacks would take memory by the count.
			if p.Shard != nil && p.Shard.Count <= suites.MaxShards {
				n = max(n, p.Shard.Count)
				held[p.Shard.Index] = true
			}
		}
	}
	var missing []int
	for k := range n {
		if !held[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &ShardSetError{Count: n, Missing: missing}
}

// widenSuites adds the suites of add that into lacks, and keeps the longest
// duration of those it has. Suites are told apart by name, which is unique
// across a run: CI jobs may check the files out at different paths.
func widenSuites(into, add []results.Suite) []results.Suite {
	for _, s := range add {
		i := slices.IndexFunc(into, func(t results.Suite) bool { return t.Name == s.Name })
		if i < 0 {
			into = append(into, s)
			continue
		}
		into[i].DurationMS = max(into[i].DurationMS, s.DurationMS)
	}
	return into
}
