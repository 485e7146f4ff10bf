package runner_test

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/latency"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// viaJSON is r as a record file gives it back: merge works from files.
func viaJSON(t *testing.T, r *results.Run) *results.Run {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out results.Run
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// shards runs ss as n shards and returns their records, read back.
func shards(t *testing.T, ss []*suites.Suite, n int, opts runner.Options) []*results.Run {
	t.Helper()
	var out []*results.Run
	for k := range n {
		opts.Shard = runner.Shard{Index: k, Count: n}
		out = append(out, viaJSON(t, run(t, ss, opts)))
	}
	return out
}

func merge(t *testing.T, runs []*results.Run, opts runner.MergeOptions) *results.Run {
	t.Helper()
	m, err := runner.Merge(runs, opts)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	return m
}

// counts is the summary without its latencies, which differ between runs.
func counts(s results.Summary) results.Summary {
	s.LatencyMS, s.LatencyHistogram = results.Percentiles{}, ""
	return s
}

func TestMergedShardsAreOneRun(t *testing.T) {
	ss := load(t, shardSuite)
	for name, opts := range map[string]runner.Options{
		"as the suites say": {},
		"with --repeat 3":   {Repeat: 3},
		"with --repeat 1":   {Repeat: 1},
	} {
		t.Run(name, func(t *testing.T) {
			whole := run(t, ss, opts)
			parts := shards(t, ss, 3, opts)
			// Given in another order than 0, 1, 2, as a glob might.
			merged := merge(t, []*results.Run{parts[2], parts[0], parts[1]}, runner.MergeOptions{})

			if got, want := keysOf(merged), keysOf(whole); !slices.Equal(got, want) {
				t.Errorf("merged conversations %v, one run's %v", got, want)
			}
			for i, c := range merged.Conversations {
				if w := whole.Conversations[i]; c.Status != w.Status || c.Runs != w.Runs {
					t.Errorf("%s: merged %s after %d runs, one run %s after %d", c.Name, c.Status, c.Runs, w.Status, w.Runs)
				}
			}
			if got, want := counts(merged.Summary), counts(whole.Summary); got != want {
				t.Errorf("merged summary\n%+v\none run's\n%+v", got, want)
			}
			if s := whole.Summary; s.Passed == 0 || s.Failed == 0 || s.Errored == 0 || s.Skipped == 0 {
				t.Fatalf("the suite should give every verdict; it gave %+v", s)
			}
			if merged.Shard != nil || len(merged.Merged) != 3 {
				t.Errorf("merged record: shard %+v, merged %+v", merged.Shard, merged.Merged)
			}
			if len(merged.Suites) != len(whole.Suites) {
				t.Errorf("merged suites %+v, want %d", merged.Suites, len(whole.Suites))
			}

			// The merged histogram holds every answered turn of every shard.
			h, err := latency.Decode(merged.Summary.LatencyHistogram)
			if err != nil {
				t.Fatal(err)
			}
			if n := h.TotalCount(); n != int64(merged.Summary.Turns-merged.Summary.TurnErrors) {
				t.Errorf("merged histogram holds %d latencies; turns %d, turn errors %d", n, merged.Summary.Turns, merged.Summary.TurnErrors)
			}
			if merged.Summary.LatencyMS != latency.Percentiles(h) {
				t.Errorf("merged percentiles %+v, its histogram's %+v", merged.Summary.LatencyMS, latency.Percentiles(h))
			}
			if opts.Repeat != 1 {
				return
			}
			// Run once, every turn is in the transcripts: the merged
			// percentiles must be those of all of them, computed apart.
			all := latency.New()
			for _, c := range merged.Conversations {
				for _, tu := range c.Turns {
					if tu.Error == "" {
						us := time.Duration(math.Round(tu.LatencyMS*1000)) * time.Microsecond
						if err := all.RecordValue(latency.Micros(us)); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if all.TotalCount() != h.TotalCount() {
				t.Fatalf("the transcripts hold %d latencies, the merged histogram %d", all.TotalCount(), h.TotalCount())
			}
			if got, want := merged.Summary.LatencyMS, latency.Percentiles(all); got != want {
				t.Errorf("merged percentiles %+v, those of every turn %+v", got, want)
			}
			if !slices.Equal(h.Distribution(), all.Distribution()) {
				t.Error("the merged histogram is not that of every turn")
			}
		})
	}
}

func TestMergeAgainOfAMergeIsTheSame(t *testing.T) {
	ss := load(t, shardSuite)
	p := shards(t, ss, 3, runner.Options{})
	once := merge(t, p, runner.MergeOptions{})
	first := viaJSON(t, merge(t, p[:2], runner.MergeOptions{AllowPartial: true}))
	twice := merge(t, []*results.Run{first, p[2]}, runner.MergeOptions{})
	if twice.Summary != once.Summary || !slices.Equal(keysOf(twice), keysOf(once)) || twice.RunID != once.RunID {
		t.Errorf("merged in two steps: %+v %s\nin one: %+v %s", twice.Summary, twice.RunID, once.Summary, once.RunID)
	}
}

func TestMergeCarriesTheInterruptAndTheSpan(t *testing.T) {
	ss := load(t, shardSuite)
	p := shards(t, ss, 2, runner.Options{})
	p[0].StartedAt = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p[0].DurationMS = 1000
	p[1].StartedAt = p[0].StartedAt.Add(500 * time.Millisecond)
	p[1].DurationMS = 2000
	p[1].Interrupted = "interrupt"
	m := merge(t, p, runner.MergeOptions{})
	if m.Interrupted != "interrupt" || !m.StartedAt.Equal(p[0].StartedAt) || m.DurationMS != 2500 {
		t.Errorf("merged: interrupted %q, started %v, %v ms", m.Interrupted, m.StartedAt, m.DurationMS)
	}
}

func TestMergeRefusesWhatIsNotOneRun(t *testing.T) {
	ss := load(t, shardSuite)
	three := shards(t, ss, 3, runner.Options{})
	two := shards(t, ss, 2, runner.Options{})
	whole := viaJSON(t, run(t, ss, runner.Options{}))
	again := viaJSON(t, run(t, ss, runner.Options{}))
	loadRec := viaJSON(t, whole)
	loadRec.Load = &results.Load{Model: "open"}
	old := viaJSON(t, three[1])
	old.Summary.LatencyHistogram = ""
	rerun := shards(t, ss, 3, runner.Options{})[0] // shard 0 again, another run id
	fewer := viaJSON(t, three[2])
	fewer.Suites = fewer.Suites[:1]
	twiceIn := viaJSON(t, whole)
	twiceIn.RunID = "twice-in"
	twiceIn.Conversations = append(twiceIn.Conversations, twiceIn.Conversations[0])

	tests := []struct {
		name string
		runs []*results.Run
		want string
	}{
		{"a shard missing", three[:2], "shard 2 is missing from the set of 3"},
		{"two shards missing", three[1:2], "shards 0, 2 are missing"},
		{"a record twice", []*results.Run{three[0], three[1], three[2], three[1]}, "both hold run"},
		{"a shard run twice", []*results.Run{three[0], three[1], three[2], rerun}, "are both shard 0 of 3"},
		{"shards of two sets", []*results.Run{three[0], two[1]}, "one of 3"},
		{"shards of other suites", []*results.Run{three[0], three[1], fewer}, "the shards of one set run the same suites"},
		{"a whole run and a shard", []*results.Run{whole, three[0]}, "is a whole run"},
		{"two whole runs of the same suites", []*results.Run{whole, again}, "both hold conversation"},
		{"a load record", []*results.Run{whole, loadRec}, "is a load record"},
		{"a record without a histogram", []*results.Run{three[0], old, three[2]}, "no summary.latency_histogram"},
		{"a conversation twice in one record", []*results.Run{twiceIn}, "holds conversation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runner.Merge(tt.runs, runner.MergeOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Merge: %v; want an error saying %q", err, tt.want)
			}
		})
	}

	// --allow-partial takes an incomplete set, and only that.
	m, err := runner.Merge(three[:2], runner.MergeOptions{AllowPartial: true})
	if err != nil {
		t.Fatalf("partial: %v", err)
	}
	var set *runner.ShardSetError
	if e := runner.MissingShards(three[:2]); !errors.As(error(e), &set) || !slices.Equal(set.Missing, []int{2}) || set.Count != 3 {
		t.Errorf("MissingShards = %v", e)
	}
	if got := len(m.Conversations); got != len(three[0].Conversations)+len(three[1].Conversations) {
		t.Errorf("partial merge holds %d conversations", got)
	}
	if _, err := runner.Merge([]*results.Run{three[0], three[0]}, runner.MergeOptions{AllowPartial: true}); err == nil {
		t.Error("--allow-partial must not let a record count twice")
	}
	if runner.MissingShards(three) != nil || runner.MissingShards([]*results.Run{whole}) != nil {
		t.Error("a whole set, or a whole run, misses no shard")
	}
}

// TestMergeOfShardsCheckedOutElsewhere: CI jobs may run the same suites
// from different paths; a suite is still one suite, by its name.
func TestMergeOfShardsCheckedOutElsewhere(t *testing.T) {
	ss := load(t, shardSuite)
	whole := run(t, ss, runner.Options{})
	p := shards(t, ss, 3, runner.Options{})
	for i := range p[1].Suites {
		p[1].Suites[i].File = "/builds/1/" + p[1].Suites[i].File
	}
	for _, c := range p[1].Conversations {
		c.File = "/builds/1/" + c.File
	}
	m := merge(t, p, runner.MergeOptions{})
	if len(m.Suites) != len(whole.Suites) {
		t.Errorf("merged suites %+v, want one per name", m.Suites)
	}
	if got, want := keysOf(m), keysOf(whole); !slices.Equal(got, want) {
		t.Errorf("merged conversations %v, one run's %v", got, want)
	}
}

// TestMergeOfAHugeShardCount: N comes from a file, so a record that says it
// is shard 0 of four billion must be refused, not answered with a table of
// four billion entries.
func TestMergeOfAHugeShardCount(t *testing.T) {
	ss := load(t, shardSuite)
	huge := shards(t, ss, 2, runner.Options{})[0]
	huge.Shard = &results.Shard{Index: 0, Count: 4_000_000_000}
	for _, partial := range []bool{false, true} {
		_, err := runner.Merge([]*results.Run{huge}, runner.MergeOptions{AllowPartial: partial})
		if err == nil || !strings.Contains(err.Error(), "10000") {
			t.Errorf("partial %v: Merge = %v, want a refusal naming the cap", partial, err)
		}
	}
	if e := runner.MissingShards([]*results.Run{huge}); e != nil && len(e.Missing) > suites.MaxShards {
		t.Errorf("MissingShards lists %d shards", len(e.Missing))
	}
}
