package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
)

// A real record (evalrun load against the simulator) with one field edited
// is refused by merge and report, naming the field, where load could not
// have written it so.
func TestMergeAndReportRefuseEditedEndsCountsAndTimelines(t *testing.T) {
	base := baseLoadRecord(t)
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
		{"timeline twice", func(r *results.Run) { r.Load.Timeline = append(r.Load.Timeline, r.Load.Timeline[len(r.Load.Timeline)-1]) },
			fmt.Sprintf("load.timeline[%d]: start_ms %v is not after", len(base.Load.Timeline), base.Load.Timeline[len(base.Load.Timeline)-1].StartMS)},
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
