package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
)

// A real record (evalrun load against the simulator) with one field edited
// is refused by merge and report, naming the field, where load could not
// have written it so.
func TestMergeAndReportRefuseEditedRecords(t *testing.T) {
	base := baseLoadRecord(t)
	if len(base.Load.Timeline) == 0 {
		t.Fatal("the base record has no timeline")
	}
	for _, c := range []struct {
		name string
		edit func(r *results.Run)
		want string // "" when the edit is within what load can write
	}{
		{"test.end", func(r *results.Run) { r.Test.End = r.Test.End.Add(5 * time.Second) }, "test.end 2026-03-04T05:06:05."},
		{"test.end rounded", func(r *results.Run) { r.Test.End = r.Test.End.Add(time.Millisecond) }, ""},
		{"ran_ms without interrupted", func(r *results.Run) { r.Test.RanMS = 10 }, "test.ran_ms is 10, but the record has no interrupted"},
		{"ran_ms past the end", func(r *results.Run) { r.Interrupted, r.Test.RanMS = "terminated (SIGTERM)", r.DurationMS+5 },
			fmt.Sprintf("test.ran_ms is %v, but the run lasted", base.DurationMS+5)},
		{"load.late", func(r *results.Run) { r.Load.Late = r.Load.Started + 1 },
			fmt.Sprintf("load.late is %d, but load.started is %d", base.Load.Started+1, base.Load.Started)},
		{"sampled failure", func(r *results.Run) {
			r.Conversations = append(r.Conversations, &results.Conversation{Suite: "s", Name: "c", Status: results.Failed, Runs: 1})
			r.Summary.Failed = 0
		}, "conversations samples 1 failed conversations, but summary.failed is 0"},
		{"sampled unfinished", func(r *results.Run) {
			r.Conversations = append(r.Conversations, &results.Conversation{Suite: "s", Name: "c", Status: results.Unfinished, Runs: 1})
			r.Summary.Unfinished = 0
		}, "conversations samples 1 unfinished conversations, but summary.unfinished is 0"},
		{"timeline off the grid", func(r *results.Run) { r.Load.Timeline = append(r.Load.Timeline, results.Interval{StartMS: 500}) },
			fmt.Sprintf("load.timeline[%d]: start_ms 500 is not a whole number of intervals", len(base.Load.Timeline))},
		{"timeline twice", func(r *results.Run) {
			r.Load.Timeline = append(r.Load.Timeline, r.Load.Timeline[len(r.Load.Timeline)-1])
		},
			fmt.Sprintf("load.timeline[%d]: start_ms %v is not after", len(base.Load.Timeline), base.Load.Timeline[len(base.Load.Timeline)-1].StartMS)},
		{"started_at", func(r *results.Run) { r.StartedAt = r.StartedAt.Add(2 * time.Millisecond) },
			"started_at 2026-03-04T05:06:00.002Z and test.start 2026-03-04T05:06:00Z differ by 2ms"},
		{"started_at rounded", func(r *results.Run) { r.StartedAt = r.StartedAt.Add(time.Millisecond) }, ""},
		{"test.start after test.end", func(r *results.Run) { r.Test.Start = mergeStart.Add(time.Hour) },
			"test.start 2026-03-04T06:06:00Z is after the record's own test.end"},
		{"late_ms without planned_start", func(r *results.Run) { r.Test.LateMS = 50 },
			"test.late_ms is 50, but it has no test.planned_start"},
		{"late_ms", func(r *results.Run) {
			planned := r.Test.Start.Add(-40 * time.Millisecond)
			r.Test.PlannedStart, r.Test.LateMS = &planned, 10
		}, "test.late_ms is 10, but test.start 2026-03-04T05:06:00Z is 40 ms after test.planned_start 2026-03-04T05:05:59.96Z"},
		{"late_ms rounded", func(r *results.Run) {
			planned := r.Test.Start.Add(-40 * time.Millisecond)
			r.Test.PlannedStart, r.Test.LateMS = &planned, 40.6
		}, ""},
		{"load.started", func(r *results.Run) { r.Load.Started++ },
			fmt.Sprintf("load.timeline's started add up to %d, but load.started is %d", base.Load.Started, base.Load.Started+1)},
		{"timeline started", func(r *results.Run) { r.Load.Timeline[0].Started++ },
			fmt.Sprintf("load.timeline's started add up to %d, but load.started is %d", base.Load.Started+1, base.Load.Started)},
		{"timeline turns", func(r *results.Run) { r.Load.Timeline[0].Turns += 2 },
			fmt.Sprintf("load.timeline's turns add up to %d, but load.overall.count is %d", base.Load.Overall.Count+2, base.Load.Overall.Count)},
		{"timeline errors", func(r *results.Run) { r.Load.Timeline[0].Errors++ },
			"load.timeline's errors add up to 1, but load.overall.errors and load.session.errors to 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeShard(t, dir, "s0.json", base, 0, 0, 0, c.edit)
			for _, args := range [][]string{{"merge", "--json", filepath.Join(dir, "m.json"), p}, {"report", p}} {
				code, stdout, stderr := inProcess(t, args...)
				want := p + ": corrupt record: " + c.want
				if c.want == "" && code == exitUsage || c.want != "" && (code != exitUsage || !strings.Contains(stderr, want)) {
					t.Errorf("%s: exit %d, want %q\n%s%s", args[0], code, c.want, stdout, stderr)
				}
			}
		})
	}
}

// A real merge, of two shards one of which was stopped early, edited in one
// field of its times, is refused by report and by a merge that takes it in;
// as merged, its JUnit names the stopped shard as its table does.
func TestReportRefusesAnEditedMerge(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	s0 := writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	s1 := writeShard(t, dir, "s1.json", base, 1, 2, 0, func(r *results.Run) {
		r.Interrupted, r.Test.RanMS = "terminated (SIGTERM)", r.DurationMS/2
	})
	m, junit := filepath.Join(dir, "m.json"), filepath.Join(dir, "m.xml")
	if code, out, errOut := inProcess(t, "merge", "--json", m, "--junit", junit, s0, s1); code != exitFailed {
		t.Fatalf("merge: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if x := read(t, junit); !strings.Contains(x, `message="shard 1/2 stopped early after `) {
		t.Errorf("the JUnit does not name the stopped shard:\n%s", x)
	}
	merged := readRun(t, m)
	for _, c := range []struct {
		name string
		edit func(r *results.Run)
		want string
	}{
		{"as merged", func(*results.Run) {}, ""},
		{"test.end", func(r *results.Run) { r.Test.End = r.Test.End.Add(time.Hour) }, "test.end 2026-03-04T06:06:00."},
		{"test.start", func(r *results.Run) {
			r.Test.Start = r.Test.Start.Add(-time.Second)
			r.StartedAt = r.Test.Start
		}, "test.start 2026-03-04T05:05:59Z is not the earliest start of test.parts"},
		{"part ran_ms without interrupted", func(r *results.Run) { r.Test.Parts[0].RanMS = 5 },
			"test.parts[0] (shard 0/2) has ran_ms 5 but no interrupted"},
		{"part ran_ms past its end", func(r *results.Run) { r.Test.Parts[1].RanMS = 1e6 },
			"test.parts[1] (shard 1/2) has ran_ms 1e+06, but it lasted"},
		{"ran_ms past the merge's end", func(r *results.Run) { r.Test.RanMS = 1e6 }, "test.ran_ms is 1e+06, but the run lasted"},
		{"ran_ms on the merge", func(r *results.Run) { r.Test.RanMS = 5 }, "test.ran_ms is 5 on a merged record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := json.Marshal(merged)
			if err != nil {
				t.Fatal(err)
			}
			var r results.Run
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			c.edit(&r)
			if raw, err = json.Marshal(&r); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "edited.json")
			if err := os.WriteFile(p, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := inProcess(t, "report", p)
			want := p + ": corrupt record: " + c.want
			if c.want == "" && code == exitUsage || c.want != "" && (code != exitUsage || !strings.Contains(stderr, want)) {
				t.Errorf("report: exit %d, want %q\n%s%s", code, c.want, stdout, stderr)
			}
		})
	}
}
