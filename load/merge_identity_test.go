package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
)

// testStart is when the shards of the tests below began.
var testStart = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)

// shard is the record of shard k of n of test "t1", begun off after
// testStart, as `evalrun load --shard k/n` writes it: 20 conversations in
// a 10 s window, 11 s with the grace period, some of them sent late.
func shard(t *testing.T, k, n int, off time.Duration) *results.Run {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(k), uint64(n)))
	os := outcomes(rng, 20)
	late := make([]time.Duration, len(os))
	for i := range late {
		if i%4 == 0 {
			late[i] = time.Duration(rng.IntN(int(time.Second)))
		}
	}
	r := roundTrip(t, recordOf(t, fmt.Sprintf("run-%d", k), os, late))
	start := testStart.Add(off)
	r.StartedAt = start
	r.Shard = &results.Shard{Index: k, Count: n}
	r.Test = &results.Test{
		ID: "t1", Digest: "sha256:dddddddddddddddddddd", SuitesDigest: "sha256:ssssssssssssssssssss",
		WorkloadDigest: "sha256:wwwwwwwwwwwwwwwwwwww", Workload: "open 400/s for 10s",
		Version: "v1.2.0", Commit: "abc123", Start: start, End: start.Add(11 * time.Second),
	}
	return r
}

// shards returns the records of shards ks of n, all begun at testStart,
// and their file names.
func shards(t *testing.T, n int, ks ...int) ([]*results.Run, []string) {
	var runs []*results.Run
	var files []string
	for _, k := range ks {
		runs = append(runs, shard(t, k, n, 0))
		files = append(files, fmt.Sprintf("shard-%d.json", k))
	}
	return runs, files
}

func TestMergeSetRefusesWhatIsNotOneTest(t *testing.T) {
	for _, c := range []struct {
		name    string
		build   func() ([]*results.Run, []string)
		partial bool
		expect  int
		want    string
	}{
		{"missing shards", func() ([]*results.Run, []string) { return shards(t, 4, 0, 2) }, false, 0,
			"shards 1, 3 are missing from the set of 4"},
		{"expected more than the records say", func() ([]*results.Run, []string) { return shards(t, 3, 0, 1, 2) }, false, 4,
			"the records are shards of a set of 3, but 4 shards were expected; merge the records of a test run with --shard K/4, or give --expect the N its shards ran with"},
		{"duplicate shard", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			again := shard(t, 1, 2, 0)
			again.RunID = "run-1-again"
			return append(runs, again), append(files, "shard-1-again.json")
		}, true, 0, "shard-1.json and shard-1-again.json are both shard 1/2"},
		{"mixed sizes", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0)
			other := shard(t, 1, 3, 0)
			return append(runs, other), append(files, "other.json")
		}, true, 0, "shard-0.json is shard 0/2 and other.json shard 1/3: shards of sets of different sizes are not one test; every shard of a test runs with the same N in --shard K/N"},
		{"whole run with a shard", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0)
			whole := shard(t, 5, 9, 0)
			whole.Shard = nil
			return append(runs, whole), append(files, "whole.json")
		}, true, 0, "whole.json is the whole test (not --shard) and shard-0.json shard 0/2"},
		{"two whole runs", func() ([]*results.Run, []string) {
			a, b := shard(t, 0, 1, 0), shard(t, 1, 1, 0)
			a.Shard, b.Shard = nil, nil
			return []*results.Run{a, b}, []string{"a.json", "b.json"}
		}, true, 0, "a.json and b.json are both the whole test"},
		{"another test", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Test.ID = "t2"
			return runs, files
		}, true, 0, `shard-0.json and shard-1.json are records of different tests: "t1" and "t2"; merge the shards of one test, each started with the same --test-id and absolute --start-at`},
		{"other suites", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Test.SuitesDigest, runs[1].Test.Digest = "sha256:SSSSSSSSSSSSSSSSSSS", "sha256:D"
			return runs, files
		}, true, 0, "shard-0.json and shard-1.json ran different suites (suites_digest sha256:ssssssssssss and sha256:SSSSSSSSSSSS)"},
		{"another workload", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Test.WorkloadDigest, runs[1].Test.Digest, runs[1].Test.Workload = "sha256:W", "sha256:D", "open 40/s for 10s"
			return runs, files
		}, true, 0, `ran different workloads (workload_digest sha256:wwwwwwwwwwww and sha256:W: "open 400/s for 10s" and "open 40/s for 10s")`},
		{"a workload that reads the same", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Test.WorkloadDigest, runs[1].Test.Digest = "sha256:W", "sha256:D"
			return runs, files
		}, true, 0, `ran different workloads (workload_digest sha256:wwwwwwwwwwww and sha256:W; both read "open 400/s for 10s", so they differ in what that does not show: the base URL, --judge or the thresholds)`},
		{"other thresholds", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[0].Load.Thresholds = []results.Threshold{{Expr: "p95<1s"}, {Expr: "error_rate<0.01"}}
			runs[1].Load.Thresholds = []results.Threshold{{Expr: "error_rate<0.01"}}
			runs[1].Test.WorkloadDigest, runs[1].Test.Digest = "sha256:W", "sha256:D"
			return runs, files
		}, true, 0, `so they differ in what that does not show: the thresholds, shard-0.json has p95<1s and shard-1.json has none)`},
		{"another version", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Test.Version = "v1.3.0"
			return runs, files
		}, true, 0, "shard-0.json and shard-1.json were written by different evalruns: v1.2.0 (abc123) and v1.3.0 (abc123)"},
		{"another model", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Load.Model = "closed"
			return runs, files
		}, true, 0, "shard-1.json is a closed-model run, shard-0.json an open-model one"},
		{"no identity", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Test = nil
			return runs, files
		}, true, 0, "shard-1.json has no test identity (\"test\"): an evalrun older than this one wrote it"},
		{"no overlap", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0)
			late := shard(t, 1, 2, 70*time.Second)
			return append(runs, late), append(files, "shard-1.json")
		}, false, 0, "shard-0.json stopped starting conversations at 2026-03-04T05:06:10Z, 1m0s before shard-1.json began at 2026-03-04T05:07:10Z"},
		{"bad shard", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[1].Shard.Index = 2
			return runs, files
		}, true, 0, "shard-1.json has shard 2/2"},
		{"a merge with one of its own shards", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			m, err := MergeSet(MergeOptions{Files: files}, runs...)
			if err != nil {
				t.Fatal(err)
			}
			return []*results.Run{m, runs[1]}, []string{"merged.json", "shard-1.json"}
		}, true, 0, "merged.json and shard-1.json both hold run run-1"},
		{"one file given twice", func() ([]*results.Run, []string) {
			runs, _ := shards(t, 2, 0, 1)
			return []*results.Run{runs[0], roundTrip(t, runs[0]), runs[1]}, []string{"c2/shard-0.json", "./c2/shard-0.json", "c2/shard-1.json"}
		}, true, 0, "c2/shard-0.json was given twice (both hold run run-0): merging it twice would count it twice; name each record once"},
		{"an open shard and a closed one", func() ([]*results.Run, []string) {
			runs, files := shards(t, 2, 0, 1)
			runs[0].Load.Model = "closed"
			return runs, files
		}, true, 0, "shard-1.json is an open-model run, shard-0.json a closed-model one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, files := c.build()
			_, err := MergeSet(MergeOptions{Files: files, AllowPartial: c.partial, Expect: c.expect}, runs...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant one that says %q", err, c.want)
			}
		})
	}
}

func TestMergeSetMissingIsAShardSetError(t *testing.T) {
	runs, files := shards(t, 4, 0, 2)
	_, err := MergeSet(MergeOptions{Files: files}, runs...)
	var set *runner.ShardSetError
	if !errors.As(err, &set) || set.Count != 4 || !reflect.DeepEqual(set.Missing, []int{1, 3}) {
		t.Errorf("err = %#v, want a ShardSetError of 1 and 3 of 4", err)
	}
}

func TestMergeSetOfEveryShard(t *testing.T) {
	runs, files := shards(t, 3, 2, 0, 1)
	runs[1].StartedAt = runs[1].StartedAt.Add(-400 * time.Millisecond)
	runs[1].Test.Start, runs[1].Test.End = runs[1].StartedAt, runs[1].StartedAt.Add(11*time.Second)
	runs[0].Test.LateMS = 250
	got, err := MergeSet(MergeOptions{Files: files, Expect: 3}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	tt := got.Test
	if got.Incomplete != nil || tt == nil || tt.ID != "t1" || tt.Digest != runs[0].Test.Digest || tt.Version != "v1.2.0" {
		t.Fatalf("merged identity %+v, incomplete %+v", tt, got.Incomplete)
	}
	if !tt.Start.Equal(runs[1].Test.Start) || !tt.End.Equal(testStart.Add(11*time.Second)) || tt.StartSkewMS != 400 || tt.LateMS != 0 {
		t.Errorf("merged times %v to %v, skew %g, late %g", tt.Start, tt.End, tt.StartSkewMS, tt.LateMS)
	}
	var order []string
	for _, p := range tt.Parts {
		order = append(order, fmt.Sprintf("%s %s %d/%d %g", p.File, p.RunID, p.Shard.Index, p.Shard.Count, p.LateMS))
	}
	if want := []string{"shard-0.json run-0 0/3 0", "shard-1.json run-1 1/3 0", "shard-2.json run-2 2/3 250"}; !reflect.DeepEqual(order, want) {
		t.Errorf("parts %q, want %q", order, want)
	}
	// The achieved rate is over the span of starting, 10.4 s, not each
	// shard's 10 s added up.
	l := got.Load
	if want := float64(l.Started) / 10.4; math.Abs(l.AchievedRate-want) > 1e-9 {
		t.Errorf("achieved %g/s, want %g", l.AchievedRate, want)
	}
	if want := float64(l.Overall.Count) / 11.4; math.Abs(l.Throughput-want) > 1e-9 {
		t.Errorf("throughput %g/s, want %g", l.Throughput, want)
	}
}

// Shards that began 70 s apart (each ran long enough to overlap) made a
// third of the rate their own records claim when added up.
func TestMergedRatesFromTheMergedTimeline(t *testing.T) {
	var runs []*results.Run
	for k := range 2 {
		r := shard(t, k, 2, time.Duration(k)*70*time.Second)
		r.Load.DurationMS, r.DurationMS = 100_000, 101_000
		r.Load.AchievedRate, r.Load.Throughput = float64(r.Load.Started)/100, float64(r.Load.Overall.Count)/101
		r.Test.End = r.Test.Start.Add(101 * time.Second)
		r.Load.Timeline, r.Load.IntervalMS = nil, 0
		runs = append(runs, r)
	}
	got, err := MergeSet(MergeOptions{}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	l := got.Load
	sum := runs[0].Load.AchievedRate + runs[1].Load.AchievedRate
	if want := float64(l.Started) / 170; math.Abs(l.AchievedRate-want) > 1e-9 || l.AchievedRate > sum*0.6 {
		t.Errorf("achieved %g/s, want %g (not the sum %g)", l.AchievedRate, want, sum)
	}
	if want := float64(l.Overall.Count) / 171; math.Abs(l.Throughput-want) > 1e-9 {
		t.Errorf("throughput %g/s, want %g", l.Throughput, want)
	}
	if l.TargetRate != runs[0].Load.TargetRate+runs[1].Load.TargetRate {
		t.Errorf("target %g, want the plan's sum", l.TargetRate)
	}
	if got.Test.StartSkewMS != 70_000 {
		t.Errorf("skew %gms, want 70000", got.Test.StartSkewMS)
	}
}

// A run with nothing left to play ends right after its last conversation,
// before its window closes: its achieved rate is still started / window.
// Shards begun together merge into that same definition, whatever their
// ends (at 3/s for 2 s, the merge used to claim 5.1/s over the last end).
func TestMergedAchievedRateIsOverTheWindowsNotTheEnds(t *testing.T) {
	runs, files := shards(t, 2, 0, 1)
	for i, r := range runs {
		end := time.Duration(6+i) * time.Second // both before the 10 s window closed
		r.DurationMS, r.Test.End = float64(end.Milliseconds()), r.Test.Start.Add(end)
	}
	got, err := MergeSet(MergeOptions{Files: files}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	l := got.Load
	if want := float64(l.Started) / 10; math.Abs(l.AchievedRate-want) > 1e-9 {
		t.Errorf("achieved %g/s, want %g (started %d over the 10 s window)", l.AchievedRate, want, l.Started)
	}
	// Merged again with nothing else, the parts keep the same rate.
	again, err := Merge(roundTrip(t, got))
	if err != nil {
		t.Fatal(err)
	}
	if again.Load.AchievedRate != l.AchievedRate {
		t.Errorf("merged again: achieved %g/s, want %g", again.Load.AchievedRate, l.AchievedRate)
	}
	// A stopped part starts for as long as it ran, which its part keeps.
	runs[1].Interrupted, runs[1].Test.RanMS = "terminated", 4000
	got, err = MergeSet(MergeOptions{Files: files}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Test.Parts[1].RanMS != 4000 || got.Test.Parts[0].RanMS != 0 {
		t.Errorf("parts' ran_ms %g and %g, want 0 and 4000", got.Test.Parts[0].RanMS, got.Test.Parts[1].RanMS)
	}
}

// A shard killed half-way: its record says how long it ran, and the rate
// is over the windows the shards were starting in.
func TestMergeSetOfAKilledShard(t *testing.T) {
	runs, files := shards(t, 2, 0, 1)
	killed := runs[1]
	killed.Interrupted = "terminate"
	killed.Test.RanMS = 4000
	killed.Test.End = killed.Test.Start.Add(5 * time.Second)
	killed.DurationMS = 5000
	got, err := MergeSet(MergeOptions{Files: files}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Interrupted != "terminate" || got.Test.Parts[1].Interrupted != "terminate" || got.Test.Parts[0].Interrupted != "" {
		t.Errorf("interrupted %q, parts %+v", got.Interrupted, got.Test.Parts)
	}
	// Shard 0 started conversations for the whole 10 s.
	if want := float64(got.Load.Started) / 10; math.Abs(got.Load.AchievedRate-want) > 1e-9 {
		t.Errorf("achieved %g/s, want %g", got.Load.AchievedRate, want)
	}
	// Killed before the other began, it did not overlap.
	early := shard(t, 1, 2, 0)
	early.Interrupted, early.Test.RanMS = "terminate", 4000
	early.Test.Start, early.Test.End = testStart.Add(-20*time.Second), testStart.Add(-15*time.Second)
	if _, err := MergeSet(MergeOptions{Files: files}, runs[0], early); err == nil || !strings.Contains(err.Error(), "shard-1.json stopped starting conversations at 2026-03-04T05:05:44Z, 16s before shard-0.json began") {
		t.Errorf("err = %v, want no overlap", err)
	}
}

// smallShard is shard k of n of a test of `load: {rate: 1, duration: 3s,
// grace: 2s}`, begun at start and ended at end: a shard given few or no
// conversations ends long before its window closes.
func smallShard(t *testing.T, k, n int, start, end time.Time) *results.Run {
	t.Helper()
	r := shard(t, k, n, 0)
	r.Load.DurationMS, r.Load.GraceMS = 3000, 2000
	r.Load.Timeline, r.Load.IntervalMS = nil, 0
	r.StartedAt, r.DurationMS = start, float64(end.Sub(start).Microseconds())/1000
	r.Test.Start, r.Test.End = start, end
	return r
}

// Overlap is over the windows the shards were starting conversations in,
// not until their last conversation ended: shards with nothing to start
// end the instant they begin, and are still one test with the others.
func TestMergeSetOverlapIsOverTheStartingWindows(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 34, 0, time.UTC)
	ms := func(d float64) time.Time { return at.Add(time.Duration(d * float64(time.Millisecond))) }
	t.Run("shards with no starts", func(t *testing.T) {
		// Five shards of one --start-at; 3 and 4 had no conversation to
		// start, and ended 0.7 ms and 0.5 ms after they began.
		ends := []float64{4100, 4300, 3900, 0.7, 2.0}
		starts := []float64{0.1, 0.3, 0.2, 0, 1.5}
		var runs []*results.Run
		var files []string
		for k := range 5 {
			runs = append(runs, smallShard(t, k, 5, ms(starts[k]), ms(ends[k])))
			files = append(files, fmt.Sprintf("shard-%d.json", k))
		}
		if _, err := MergeSet(MergeOptions{Files: files, Expect: 5}, runs...); err != nil {
			t.Errorf("refused: %v", err)
		}
	})
	t.Run("one shard late", func(t *testing.T) {
		// Three shards, one 0.5 s late; shard 0's only conversation ended
		// at 137 ms.
		runs := []*results.Run{
			smallShard(t, 0, 3, ms(0), ms(137)),
			smallShard(t, 1, 3, ms(2), ms(4200)),
			smallShard(t, 2, 3, ms(500), ms(4700)),
		}
		files := []string{"shard-0.json", "shard-1.json", "shard-2.json"}
		if _, err := MergeSet(MergeOptions{Files: files, Expect: 3}, runs...); err != nil {
			t.Errorf("refused: %v", err)
		}
	})
	t.Run("a shard that began after the others' windows", func(t *testing.T) {
		runs := []*results.Run{
			smallShard(t, 0, 2, ms(0), ms(137)),
			smallShard(t, 1, 2, ms(3500), ms(7600)),
		}
		_, err := MergeSet(MergeOptions{Files: []string{"shard-0.json", "shard-1.json"}}, runs...)
		if want := "shard-0.json stopped starting conversations at 2026-03-04T05:06:37Z, 500ms before shard-1.json began at 2026-03-04T05:06:37.5Z"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant %q", err, want)
		}
	})
}

// Shards of one test id that planned different starts (a relative
// --start-at on each machine) are refused, naming both files and times.
func TestMergeSetRefusesDifferentPlannedStarts(t *testing.T) {
	at := func(d time.Duration) *time.Time { p := testStart.Add(d); return &p }
	for _, c := range []struct {
		name string
		a, b *time.Time
		want string
	}{
		{"different", at(0), at(-2 * time.Second), "shard-0.json and shard-1.json planned different starts (test.planned_start 2026-03-04T05:06:00Z and 2026-03-04T05:05:58Z), so they are not one test; give every shard the same absolute --start-at (e.g. --start-at 2026-03-04T05:06:00Z)"},
		{"one without", nil, at(0), "shard-0.json and shard-1.json planned different starts (test.planned_start none (no --start-at) and 2026-03-04T05:06:00Z)"},
		{"one without, the other first", at(0), nil, "test.planned_start 2026-03-04T05:06:00Z and none (no --start-at)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, files := shards(t, 2, 0, 1)
			runs[0].Test.PlannedStart, runs[1].Test.PlannedStart = c.a, c.b
			_, err := MergeSet(MergeOptions{Files: files}, runs...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant %q", err, c.want)
			}
		})
	}
	runs, files := shards(t, 2, 0, 1)
	runs[0].Test.PlannedStart, runs[1].Test.PlannedStart = at(0), at(0)
	if _, err := MergeSet(MergeOptions{Files: files}, runs...); err != nil {
		t.Errorf("the same planned start: %v", err)
	}
}

// A record whose own start was edited past its end is named once, as that,
// not as two shards that did not overlap.
func TestMergeSetRefusesARecordThatEndsBeforeItBegins(t *testing.T) {
	runs, files := shards(t, 2, 0, 1)
	runs[1].Test.Start = testStart.Add(time.Hour)
	_, err := MergeSet(MergeOptions{Files: files}, runs...)
	if err == nil || !strings.Contains(err.Error(), "shard-1.json: its start 2026-03-04T06:06:00Z is after its own end 2026-03-04T05:06:11Z") {
		t.Errorf("err = %v", err)
	}
}

func TestMergeSetAllowPartial(t *testing.T) {
	runs, files := shards(t, 4, 0, 2)
	got, err := MergeSet(MergeOptions{Files: files, AllowPartial: true}, runs...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Incomplete == nil || got.Incomplete.Shards != 4 || !reflect.DeepEqual(got.Incomplete.Missing, []int{1, 3}) {
		t.Fatalf("incomplete %+v, want 1 and 3 of 4 missing", got.Incomplete)
	}
	// The partial merge merges again with the shards it lacked, whole.
	rest, restFiles := shards(t, 4, 1, 3)
	all, err := MergeSet(MergeOptions{Files: append([]string{"partial.json"}, restFiles...)}, append([]*results.Run{roundTrip(t, got)}, rest...)...)
	if err != nil {
		t.Fatal(err)
	}
	if all.Incomplete != nil || len(all.Test.Parts) != 4 || len(all.Load.Shards) != 4 {
		t.Errorf("incomplete %+v, %d parts, shards %v", all.Incomplete, len(all.Test.Parts), all.Load.Shards)
	}
	var order []string
	for _, p := range all.Test.Parts {
		order = append(order, p.File)
	}
	if want := []string{"shard-0.json", "shard-1.json", "shard-2.json", "shard-3.json"}; !reflect.DeepEqual(order, want) {
		t.Errorf("parts from %q, want %q", order, want)
	}
}

// Each corruption of a shard's metrics is refused by merge and by report
// alike, naming the file and the metric.
func TestMergeAndReportRefuseInconsistentHistograms(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(l *results.Load)
		want  string
	}{
		{"edited count", func(l *results.Load) { l.Turns[1].Count += 2 }, "load.turns[1] (turn 2): the histogram holds"},
		{"edited errors", func(l *results.Load) { l.Overall.Errors-- }, "load.overall: the histogram holds"},
		{"emptied histogram", func(l *results.Load) { l.Turns[0].Histogram = "" }, `load.turns[0] (turn 1): the histogram is absent ("")`},
		{"turn swapped with overall", func(l *results.Load) { l.Turns[2], l.Overall = l.Overall, l.Turns[2] }, "load.overall: count"},
		{"corrected swapped with service", func(l *results.Load) { l.Overall.Histogram, l.Overall.Service = l.Overall.Service, l.Overall.Histogram },
			"load.overall: the histogram (corrected latency"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, files := shards(t, 2, 0, 1)
			c.spoil(runs[1].Load)
			_, err := MergeSet(MergeOptions{Files: files}, runs...)
			if err == nil || !strings.Contains(err.Error(), "shard-1.json: "+c.want) {
				t.Errorf("merge: err = %v\nwant one that says %q", err, "shard-1.json: "+c.want)
			}
			b, jerr := json.Marshal(runs[1])
			if jerr != nil {
				t.Fatal(jerr)
			}
			_, err = report.ReadRecord(bytes.NewReader(b), "shard-1.json")
			if err == nil || !strings.Contains(err.Error(), "shard-1.json: corrupt record: "+c.want) {
				t.Errorf("report: err = %v\nwant one that says %q", err, c.want)
			}
		})
	}
}
