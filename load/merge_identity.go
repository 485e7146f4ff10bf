package load

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// MergeOptions say how MergeSet checks the records of a test's shards.
type MergeOptions struct {
	// Files names each record (its file), in the order of the records, for
	// errors and for the merged record's Test.Parts. A record without a
	// name is called by its place: "record 2 (run b)".
	Files []string
	// AllowPartial merges a deliberate subset of the shards: the merged
	// record is marked Incomplete instead of refused. Duplicated, mixed or
	// foreign records are refused all the same.
	AllowPartial bool
	// Expect, when above 0, is how many shards the test has: a set of
	// another size is refused whatever its records say.
	Expect int
}

// MergeSet merges the records of one load test's shards (see Merge for
// the figures), after checking that they are that: every record carries a
// test identity (Run.Test), and all of them the same test id, digests and
// evalrun version; the shards are of one N, each at most once, none
// missing (unless opts.AllowPartial, which marks the result Incomplete),
// or a single whole run; and they ran at the same time: every part's
// span of starting conversations (from its start, for its window or until
// it was stopped) meets every other's. A record that was itself merged counts
// as the parts it lists. Errors name the files; a set short of shards is a
// *runner.ShardSetError.
func MergeSet(opts MergeOptions, runs ...*results.Run) (*results.Run, error) {
	return mergeRecords(runs, opts.Files, &opts)
}

// recordNames returns how errors call record i: its file, or its place and
// run id.
func recordNames(runs []*results.Run, files []string) func(i int) string {
	return func(i int) string {
		if i < len(files) && files[i] != "" {
			return files[i]
		}
		id := ""
		if i < len(runs) && runs[i] != nil {
			id = runs[i].RunID
		}
		return fmt.Sprintf("record %d (run %s)", i+1, id)
	}
}

// namePair names records i and j together: "a.json and b.json", or
// "records 1 and 2" when they have no files.
func namePair(runs []*results.Run, files []string, i, j int) string {
	if i < len(files) && j < len(files) && files[i] != "" && files[j] != "" {
		return files[i] + " and " + files[j]
	}
	return fmt.Sprintf("records %d and %d", i+1, j+1)
}

// part is one record of the test as merge sees it: a shard's own record,
// or one of the parts a merged record lists.
type part struct {
	results.Part
	label string // how errors call it: its file, or the record's name
	// starting is when the part stopped starting conversations: the end of
	// its window, or earlier when it was cut short (see startingFor).
	starting time.Time
}

// allParts lists the parts of runs, those of a merged record in its place.
// A record without a test identity stands for itself, its times taken from
// StartedAt and DurationMS.
func allParts(runs []*results.Run, files []string, name func(int) string) []part {
	var out []part
	for i, r := range runs {
		window := msDuration(r.Load.DurationMS)
		if t := r.Test; t != nil && len(t.Parts) > 0 {
			for _, p := range t.Parts {
				label := p.File
				if label == "" {
					label = name(i)
				}
				out = append(out, part{Part: p, label: label, starting: p.Start.Add(startingFor(window, p.RanMS))})
			}
			continue
		}
		p := results.Part{RunID: r.RunID, Shard: r.Shard, Interrupted: r.Interrupted}
		if i < len(files) {
			p.File = files[i]
		}
		p.Start, p.End = r.StartedAt, r.StartedAt.Add(msDuration(r.DurationMS))
		if t := r.Test; t != nil {
			p.Start, p.End, p.LateMS, p.RanMS = t.Start, t.End, t.LateMS, t.RanMS
		}
		out = append(out, part{Part: p, label: name(i), starting: p.Start.Add(startingFor(window, p.RanMS))})
	}
	return out
}

// startingFor is how long a part was starting conversations: its window,
// or less when it was stopped after ranMS (0: it was not). It is not capped
// by the part's end: a run with nothing left to play ends right after its
// last conversation, before its window closes, and a rate over that
// shorter span would claim more than the run's own definition (started /
// window), which a merge of shards begun together must give exactly.
func startingFor(window time.Duration, ranMS float64) time.Duration {
	if ranMS > 0 {
		return min(window, msDuration(ranMS))
	}
	return window
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// partsSpan is when the parts began (the first start), stopped starting
// conversations (the last), and ended (the last end).
func partsSpan(parts []part) (start, starting, end time.Time) {
	for i, p := range parts {
		if i == 0 || p.Start.Before(start) {
			start = p.Start
		}
		if p.starting.After(starting) {
			starting = p.starting
		}
		if p.End.After(end) {
			end = p.End
		}
	}
	return start, starting, end
}

// mergedRates are the rates of the merged timeline: conversations begun per
// second over the span in which any part was starting them, and turns
// finished per second from the first start to the last end. Adding the
// shards' own rates would claim N times the rate of shards that ran one
// after another.
func mergedRates(l *results.Load, parts []part) (achieved, throughput float64) {
	start, starting, end := partsSpan(parts)
	if d := starting.Sub(start); d > 0 {
		achieved = float64(l.Started) / d.Seconds()
	}
	if d := end.Sub(start); d > 0 {
		throughput = float64(l.Overall.Count) / d.Seconds()
	}
	return achieved, throughput
}

// mergedTest is the merged record's identity, when every record has one:
// that of the first record, from the first part's start to the last one's
// end, with every part listed in shard order and the skew of their starts.
func mergedTest(runs []*results.Run, parts []part) *results.Test {
	for _, r := range runs {
		if r.Test == nil {
			return nil
		}
	}
	t := *runs[0].Test
	t.LateMS, t.RanMS = 0, 0
	t.Start, _, t.End = partsSpan(parts)
	var latest time.Time
	t.Parts = make([]results.Part, 0, len(parts))
	for _, p := range parts {
		t.Parts = append(t.Parts, p.Part)
		if p.Start.After(latest) {
			latest = p.Start
		}
	}
	slices.SortStableFunc(t.Parts, func(a, b results.Part) int {
		if c := shardIndex(a) - shardIndex(b); c != 0 {
			return c
		}
		return a.Start.Compare(b.Start)
	})
	t.StartSkewMS = durationMS(latest.Sub(t.Start))
	return &t
}

// shardIndex orders parts: a whole run (no shard) first, then by K.
func shardIndex(p results.Part) int {
	if p.Shard == nil {
		return -1
	}
	return p.Shard.Index
}

// checkSet checks that runs are the records of one test (see MergeSet) and
// returns what a partial set lacks.
func checkSet(opts MergeOptions, runs []*results.Run, name func(int) string) (*results.Incomplete, error) {
	pair := func(i, j int) string { return namePair(runs, opts.Files, i, j) }
	for i, r := range runs {
		if r.Test == nil {
			return nil, fmt.Errorf("%s has no test identity (\"test\"): an evalrun older than this one wrote it, and merge cannot tell whether it belongs with the others; run the load again with this evalrun", name(i))
		}
	}
	first := runs[0].Test
	for i, r := range runs[1:] {
		i++
		t := r.Test
		switch {
		case t.ID != first.ID:
			return nil, fmt.Errorf("%s are records of different tests: %q and %q; merge the shards of one test, each started with the same --test-id and absolute --start-at", pair(0, i), first.ID, t.ID)
		case t.Version != first.Version || t.Commit != first.Commit:
			return nil, fmt.Errorf("%s were written by different evalruns: %s and %s; every shard of a test runs the same build", pair(0, i), versionText(first), versionText(t))
		case t.Digest != first.Digest || t.SuitesDigest != first.SuitesDigest || t.WorkloadDigest != first.WorkloadDigest:
			return nil, fmt.Errorf("%s %s", pair(0, i), digestDifference(runs[0], r, name(0), name(i)))
		case !samePlan(t.PlannedStart, first.PlannedStart):
			// Shards that agree on the id but not on when to start were
			// started apart by hand (a relative --start-at on each
			// machine, say): not the one test a shared start makes.
			return nil, fmt.Errorf("%s planned different starts (test.planned_start %s and %s), so they are not one test; give every shard the same absolute --start-at (e.g. --start-at %s)",
				pair(0, i), plannedText(first.PlannedStart), plannedText(t.PlannedStart), plannedExample(first.PlannedStart, t.PlannedStart))
		}
	}

	parts := allParts(runs, opts.Files, name)
	n := 0
	var whole []part
	for _, p := range parts {
		s := p.Shard
		switch {
		case s == nil:
			whole = append(whole, p)
			continue
		case s.Count < 1 || s.Count > suites.MaxShards || s.Index < 0 || s.Index >= s.Count:
			return nil, fmt.Errorf("%s has shard %d/%d; a shard K/N has 0 <= K < N <= %d", p.label, s.Index, s.Count, suites.MaxShards)
		}
		n = max(n, s.Count)
	}
	switch {
	case len(whole) > 1:
		return nil, fmt.Errorf("%s and %s are both the whole test (not --shard): merging them would count its load twice", whole[0].label, whole[1].label)
	case len(whole) == 1 && len(parts) > 1:
		other := parts[0]
		if other.Shard == nil {
			other = parts[1]
		}
		return nil, fmt.Errorf("%s is the whole test (not --shard) and %s shard %s: merging them would count part of the load twice", whole[0].label, other.label, shardText(other.Shard))
	case len(whole) == 1:
		n = 1
	}

	held := map[int]part{}
	for _, p := range parts {
		if p.Shard == nil {
			continue
		}
		if p.Shard.Count != n {
			big := parts[slices.IndexFunc(parts, func(q part) bool { return q.Shard != nil && q.Shard.Count == n })]
			return nil, fmt.Errorf("%s is shard %s and %s shard %s: shards of sets of different sizes are not one test; every shard of a test runs with the same N in --shard K/N", p.label, shardText(p.Shard), big.label, shardText(big.Shard))
		}
		if q, dup := held[p.Shard.Index]; dup {
			return nil, fmt.Errorf("%s and %s are both shard %s: merging both would count that shard's load twice", q.label, p.label, shardText(p.Shard))
		}
		held[p.Shard.Index] = p
	}
	if opts.Expect > 0 && n != opts.Expect {
		what := fmt.Sprintf("shards of a set of %d", n)
		if n == 1 && len(whole) == 1 {
			what = "the record of a whole run (not --shard)"
		}
		return nil, fmt.Errorf("the records are %s, but %d shards were expected; merge the records of a test run with --shard K/%d, or give --expect the N its shards ran with", what, opts.Expect, opts.Expect)
	}

	if err := checkOverlap(parts); err != nil {
		return nil, err
	}

	var missing []int
	for k := range n {
		if _, ok := held[k]; !ok && len(whole) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if !opts.AllowPartial {
		return nil, &runner.ShardSetError{Count: n, Missing: missing}
	}
	return &results.Incomplete{Shards: n, Missing: missing}, nil
}

// checkOverlap refuses parts that did not all run at the same time: if the
// one whose starting stopped first stopped before the one that began last
// began, those two never overlapped (and any two that did not overlap are
// no further apart than they). A part runs, for this, from its start for
// as long as it was starting conversations (its window, or until it was
// stopped: part.starting, the span the achieved rate is over), not until
// its last conversation ended: a shard given few or no starts ends the
// moment it begins, and a shard begun late within the others' windows is
// still one test with them.
func checkOverlap(parts []part) error {
	if len(parts) == 0 {
		return nil
	}
	ended, began := 0, 0
	for _, p := range parts {
		// Not a gap between two parts, but one record's own times edited.
		if p.End.Before(p.Start) {
			return fmt.Errorf("%s: its start %s is after its own end %s; a run ends after it begins, so the record was edited",
				p.label, p.Start.UTC().Format(time.RFC3339Nano), p.End.UTC().Format(time.RFC3339Nano))
		}
	}
	for i, p := range parts {
		if p.starting.Before(parts[ended].starting) {
			ended = i
		}
		if p.Start.After(parts[began].Start) {
			began = i
		}
	}
	a, b := parts[ended], parts[began]
	if gap := b.Start.Sub(a.starting); gap > 0 {
		return fmt.Errorf("%s stopped starting conversations at %s, %s before %s began at %s: the shards of one test run at the same time, and these did not overlap (start them together with --start-at)",
			a.label, a.starting.UTC().Format(time.RFC3339Nano), gap.Round(time.Millisecond), b.label, b.Start.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// samePlan reports whether two planned starts are the same: both absent,
// or both the same instant.
func samePlan(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func plannedText(at *time.Time) string {
	if at == nil {
		return "none (no --start-at)"
	}
	return at.UTC().Format(time.RFC3339Nano)
}

// plannedExample is a start to suggest: one of those planned.
func plannedExample(a, b *time.Time) string {
	if a == nil {
		a = b
	}
	return a.UTC().Format(time.RFC3339)
}

func shardText(s *results.Shard) string {
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

func versionText(t *results.Test) string {
	if t.Commit == "" {
		return t.Version
	}
	return t.Version + " (" + t.Commit + ")"
}

// digestDifference says how the digests of two tests, the records ra and
// rb (called na and nb), differ: their suites, their workloads, or both.
// Workloads that read the same differ in what the words leave out: the
// base URL, --judge or the thresholds, and the thresholds are in the
// records, so those that differ are named.
func digestDifference(ra, rb *results.Run, na, nb string) string {
	a, b := ra.Test, rb.Test
	suitesDiffer, workloadDiffers := a.SuitesDigest != b.SuitesDigest, a.WorkloadDigest != b.WorkloadDigest
	var what []string
	if suitesDiffer {
		what = append(what, "suites (suites_digest "+short(a.SuitesDigest)+" and "+short(b.SuitesDigest)+")")
	}
	if workloadDiffers {
		w := "workloads (workload_digest " + short(a.WorkloadDigest) + " and " + short(b.WorkloadDigest)
		switch {
		case a.Workload != b.Workload && a.Workload != "" && b.Workload != "":
			w += ": " + strconv.Quote(a.Workload) + " and " + strconv.Quote(b.Workload)
		case a.Workload == b.Workload:
			w += "; both read " + strconv.Quote(a.Workload) + ", so they differ in what that does not show: "
			if onlyA, onlyB := thresholdDifference(ra, rb); len(onlyA)+len(onlyB) > 0 {
				w += "the thresholds, " + na + " " + exprList(onlyA) + " and " + nb + " " + exprList(onlyB)
			} else {
				w += "the base URL, --judge or the thresholds"
			}
		}
		what = append(what, w+")")
	}
	if len(what) == 0 {
		return "have different digests (" + short(a.Digest) + " and " + short(b.Digest) + ") of the same suites and workload: one was edited"
	}
	return "ran different " + strings.Join(what, " and different ") + "; the shards of one test run the same suites and workload"
}

// thresholdDifference lists the threshold expressions each record was
// judged by that the other was not.
func thresholdDifference(a, b *results.Run) (onlyA, onlyB []string) {
	exprs := func(r *results.Run) []string {
		var out []string
		if r.Load != nil {
			for _, t := range r.Load.Thresholds {
				out = append(out, t.Expr)
			}
		}
		return out
	}
	ea, eb := exprs(a), exprs(b)
	for _, e := range ea {
		if !slices.Contains(eb, e) {
			onlyA = append(onlyA, e)
		}
	}
	for _, e := range eb {
		if !slices.Contains(ea, e) {
			onlyB = append(onlyB, e)
		}
	}
	return onlyA, onlyB
}

// exprList is "has p95<1s, error_rate<0.01", or "has none".
func exprList(exprs []string) string {
	if len(exprs) == 0 {
		return "has none"
	}
	return "has " + strings.Join(exprs, ", ")
}

// short is a digest cut to what tells two apart in a message.
func short(d string) string {
	if d == "" {
		return `""`
	}
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
