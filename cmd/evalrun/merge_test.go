package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/results"
)

// mergeStart is when the shards of the records below began.
var mergeStart = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)

// baseLoadRecord is the record of a short real load run against the
// simulator, the material the shard records below are made of.
func baseLoadRecord(t *testing.T) *results.Run {
	t.Helper()
	suite := writeSuite(t, loadSuite)
	p := filepath.Join(t.TempDir(), "base.json")
	if code, _, stderr := inProcess(t, "load", "--no-progress", "--rate", "20", "--duration", "200ms", "--json", p, suite); code != exitOK {
		t.Fatalf("load: exit %d\n%s", code, stderr)
	}
	return readRun(t, p)
}

// writeShard writes base as the record of shard k of n (n 0: a whole run)
// of test "t1", begun off after mergeStart, to dir/name, and returns its
// path; edit, if not nil, changes it first.
func writeShard(t *testing.T, dir, name string, base *results.Run, k, n int, off time.Duration, edit func(*results.Run)) string {
	t.Helper()
	raw, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	var r results.Run
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	start := mergeStart.Add(off)
	r.RunID, r.StartedAt = fmt.Sprintf("run-%d-%s", k, name), start
	if n > 0 {
		r.Shard = &results.Shard{Index: k, Count: n}
	}
	r.Test = &results.Test{
		ID: "t1", Digest: "sha256:dddddddddddddddd", SuitesDigest: "sha256:ssssssssssssssss", WorkloadDigest: "sha256:wwwwwwwwwwwwwwww",
		Workload: "open 20/s for 200ms", Version: "v1.2.0", Start: start, End: start.Add(time.Duration(r.DurationMS * float64(time.Millisecond))),
	}
	if edit != nil {
		edit(&r)
	}
	raw, err = json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMergeRefusesWhatIsNotOneTest(t *testing.T) {
	base := baseLoadRecord(t)
	for _, c := range []struct {
		name  string
		files func(dir string) []string
		flags []string
		want  string
	}{
		{"missing shards", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 4, 0, nil), writeShard(t, dir, "s2.json", base, 2, 4, 0, nil)}
		}, nil, "merge: shards 1, 3 are missing from the set of 4 (K counts from 0); merge every shard, or pass --allow-partial to merge these alone: DIR/s0.json, DIR/s2.json\n"},
		{"missing shards of many", func(dir string) []string {
			var files []string
			for _, k := range []int{0, 1, 2, 4, 5, 7} {
				files = append(files, writeShard(t, dir, fmt.Sprintf("s%d.json", k), base, k, 8, 0, nil))
			}
			return files
		}, nil, "to merge these alone: DIR/s0.json, DIR/s1.json, DIR/s2.json, DIR/s4.json and 2 more\n"},
		{"fewer than expected", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 2, 0, nil), writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)}
		}, []string{"--expect", "3"}, "the records are shards of a set of 2, but 3 shards were expected"},
		{"duplicate shard", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 2, 0, nil), writeShard(t, dir, "s1.json", base, 1, 2, 0, nil),
				writeShard(t, dir, "s1-again.json", base, 1, 2, 0, nil)}
		}, []string{"--allow-partial"}, "s1.json and " + "DIR/s1-again.json are both shard 1/2"},
		{"mixed suites", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 2, 0, nil), writeShard(t, dir, "s1.json", base, 1, 2, 0, func(r *results.Run) {
				r.Test.SuitesDigest, r.Test.Digest = "sha256:other", "sha256:other"
			})}
		}, nil, "ran different suites (suites_digest sha256:ssssssssssss and sha256:other)"},
		{"mixed versions", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 2, 0, nil), writeShard(t, dir, "s1.json", base, 1, 2, 0, func(r *results.Run) { r.Test.Version = "v1.3.0" })}
		}, nil, "were written by different evalruns: v1.2.0 and v1.3.0"},
		{"another test", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 2, 0, nil), writeShard(t, dir, "s1.json", base, 1, 2, 0, func(r *results.Run) { r.Test.ID = "t2" })}
		}, nil, `are records of different tests: "t1" and "t2"`},
		{"no overlap", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 2, 0, nil), writeShard(t, dir, "s1.json", base, 1, 2, 70*time.Second, nil)}
		}, nil, "before DIR/s1.json began at 2026-03-04T05:07:10Z: the shards of one test run at the same time, and these did not overlap"},
		{"no identity", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 1, 0, func(r *results.Run) { r.Test = nil })}
		}, nil, `s0.json has no test identity ("test")`},
		{"emptied histogram", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 1, 0, func(r *results.Run) { r.Load.Turns[1].Histogram = "" })}
		}, nil, `only a metric that measured nothing has none; run that shard again, or leave its record out and merge the others with --allow-partial`},
		{"edited count", func(dir string) []string {
			return []string{writeShard(t, dir, "s0.json", base, 0, 1, 0, func(r *results.Run) { r.Load.Overall.Count++ })}
		}, nil, "s0.json: corrupt record: load.overall: the histogram holds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := c.files(dir)
			args := append(append([]string{"merge", "--json", filepath.Join(dir, "out", "merged.json")}, c.flags...), files...)
			code, _, stderr := inProcess(t, args...)
			want := strings.ReplaceAll(c.want, "DIR", dir)
			if code != exitUsage || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, want 2 and a message with %q:\n%s", code, want, stderr)
			}
		})
	}
}

// A merge of some shards, on purpose: it warns, marks the record and every
// report incomplete, and exits by the thresholds.
func TestMergeAllowPartialMarksTheRecordAndReports(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	planned := func(r *results.Run) { r.Test.PlannedStart = &mergeStart }
	s0 := writeShard(t, dir, "s0.json", base, 0, 4, 0, planned)
	s2 := writeShard(t, dir, "s2.json", base, 2, 4, 100*time.Millisecond, func(r *results.Run) { planned(r); r.Test.LateMS = 100 })
	out := filepath.Join(dir, "out")
	js, md, html, junit := filepath.Join(out, "m.json"), filepath.Join(out, "m.md"), filepath.Join(out, "m.html"), filepath.Join(out, "m.xml")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := inProcess(t, "merge", "--allow-partial", "--json", js, "--md", md, "--html", html, "--junit", junit,
		"--threshold", "error_rate<0.5", s0, s2)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "warning: --allow-partial: shards 1, 3 are missing from the set of 4") {
		t.Errorf("no warning on stderr:\n%s", stderr)
	}
	m := readRun(t, js)
	if m.Incomplete == nil || m.Incomplete.Shards != 4 || fmt.Sprint(m.Incomplete.Missing) != "[1 3]" {
		t.Errorf("incomplete %+v", m.Incomplete)
	}
	if m.Test == nil || len(m.Test.Parts) != 2 || m.Test.Parts[1].File != s2 || m.Test.StartSkewMS != 100 {
		t.Errorf("merged test %+v", m.Test)
	}
	for name, text := range map[string]string{"stdout": stdout, "md": read(t, md), "html": read(t, html), "junit": read(t, junit)} {
		if !strings.Contains(text, "shards 1, 3 of 4 missing") {
			t.Errorf("%s does not say the merge is incomplete:\n%s", name, text)
		}
	}
	if !strings.Contains(stdout, "Shards started within 100ms of each other; shard 2 started 100ms late") {
		t.Errorf("the table does not show the skew:\n%s", stdout)
	}
	// Reported again, it says so still.
	code, stdout, _ = inProcess(t, "report", js)
	if code != exitOK || !strings.Contains(stdout, "INCOMPLETE: shards 1, 3 of 4 missing") {
		t.Errorf("report: exit %d\n%s", code, stdout)
	}
}

// A killed shard's record merges, and the merge cannot pass.
func TestMergeOfAKilledShard(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	s0 := writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	s1 := writeShard(t, dir, "s1.json", base, 1, 2, 0, func(r *results.Run) {
		r.Interrupted, r.Test.RanMS = "terminate", 100
	})
	code, stdout, stderr := inProcess(t, "merge", "--json", filepath.Join(dir, "m.json"), s0, s1)
	if code != exitFailed || !strings.Contains(stderr, "stopped early") {
		t.Errorf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	// The shard was stopped, not the merge, and the table says which and
	// after how long.
	if !strings.Contains(stderr, "evalrun: shard 1/2 stopped early after 100ms: terminate\n") || strings.Contains(stderr, "evalrun: stopped early") {
		t.Errorf("stderr does not say which shard was stopped:\n%s", stderr)
	}
	if !strings.Contains(stdout, "\nShard 1/2 stopped early after 100ms: terminate\n") || strings.Contains(stdout, "(stopped early") {
		t.Errorf("the table does not say which shard was stopped:\n%s", stdout)
	}
	if m := readRun(t, filepath.Join(dir, "m.json")); m.Test.Parts[1].RanMS != 100 {
		t.Errorf("the merged part's ran_ms is %g, want 100", m.Test.Parts[1].RanMS)
	}
	// Reported again, the merged record exits as the merge did.
	if code, _, stderr := inProcess(t, "report", filepath.Join(dir, "m.json")); code != exitFailed {
		t.Errorf("report of the merge: exit %d, want 1\n%s", code, stderr)
	}
	// Without it, the set is short of a shard.
	code, _, stderr = inProcess(t, "merge", "--json", filepath.Join(dir, "m.json"), s0)
	if code != exitUsage || !strings.Contains(stderr, "shard 1 is missing from the set of 2") {
		t.Errorf("exit %d, want 2\n%s", code, stderr)
	}
}

// A directory stands for the records in it: not hidden files (outfile's
// temporaries among them), *.tmp files, other files, subdirectories, or
// the merge's own outputs from an earlier run.
func TestMergeOfADirectory(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
	writeShard(t, dir, ".s1.json", base, 1, 2, 0, nil)
	writeShard(t, dir, ".s1.json.k3x9.tmp", base, 1, 2, 0, nil)
	writeShard(t, dir, "s1.json.tmp", base, 1, 2, 0, nil)
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a record")
	if err := os.Mkdir(filepath.Join(dir, "old.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "merged.json")
	for round := range 2 { // the second time, merged.json is there
		code, stdout, stderr := inProcess(t, "merge", "--json", out, "--md", filepath.Join(dir, "merged.md"), dir)
		if code != exitOK {
			t.Fatalf("round %d: exit %d\n%s%s", round, code, stdout, stderr)
		}
		m := readRun(t, out)
		if len(m.Load.Shards) != 2 || m.Incomplete != nil || m.Load.Started != 2*base.Load.Started {
			t.Errorf("round %d: merged %v, started %d", round, m.Load.Shards, m.Load.Started)
		}
	}
	// A file that is not a record is refused, not waited for: records are
	// renamed into place whole.
	writeFile(t, filepath.Join(dir, "half.json"), `{"schema": "evalrun/v1", "lo`)
	code, _, stderr := inProcess(t, "merge", "--json", out, dir)
	if code != exitUsage || !strings.Contains(stderr, "half.json: not an evalrun JSON record") {
		t.Errorf("exit %d, want 2\n%s", code, stderr)
	}
	empty := t.TempDir()
	if code, _, stderr := inProcess(t, "merge", "--json", out, empty); code != exitUsage || !strings.Contains(stderr, "no records in "+empty) {
		t.Errorf("empty directory: exit %d\n%s", code, stderr)
	}
}

// An output that names one of the records of a directory being merged is
// refused, and the record left as it was: the scan used to skip the
// outputs, then write them, replacing a shard's record with the merge. Only
// an earlier merge's output may be replaced, as a re-run does.
func TestMergeRefusesToWriteOverARecordOfADirectory(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	s0 := writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	s1 := writeShard(t, dir, "s1.json", base, 1, 2, 0, nil)
	before0, before1 := read(t, s0), read(t, s1)
	elsewhere := filepath.Join(t.TempDir(), "m.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--json", s0, "--allow-partial"}, "--json " + s0 + " is one of the records in " + dir + "/; write the merged record elsewhere"},
		{[]string{"--json", elsewhere, "--md", s1}, "--md " + s1 + " is one of the records in " + dir + "/; write the report elsewhere"},
		{[]string{"--json", elsewhere, "--html", s0}, "--html " + s0 + " is one of the records in " + dir + "/"},
		{[]string{"--json", elsewhere, "--junit", s1}, "--junit " + s1 + " is one of the records in " + dir + "/"},
	} {
		code, _, stderr := inProcess(t, append(append([]string{"merge"}, c.args...), dir+"/")...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", c.args, code, c.want, stderr)
		}
	}
	if read(t, s0) != before0 || read(t, s1) != before1 {
		t.Fatal("a shard's record was written over")
	}

	// The Kubernetes merge Job: merged.json in the directory it merges, run
	// again. A report of the first merge under a *.json name is no record
	// either, and is replaced.
	merged, md := filepath.Join(dir, "merged.json"), filepath.Join(dir, "summary.json")
	for round := range 3 {
		code, stdout, stderr := inProcess(t, "merge", "--expect", "2", "--json", merged, "--md", md, dir)
		if code != exitOK {
			t.Fatalf("round %d: exit %d\n%s%s", round, code, stdout, stderr)
		}
		if m := readRun(t, merged); len(m.Test.Parts) != 2 || m.Load.Started != 2*base.Load.Started {
			t.Errorf("round %d: merged %d parts, started %d", round, len(m.Test.Parts), m.Load.Started)
		}
	}
	// A merged record is replaced only by --json: it is a record still.
	code, _, stderr := inProcess(t, "merge", "--json", elsewhere, "--md", merged, dir)
	if code != exitUsage || !strings.Contains(stderr, "--md "+merged+" is one of the records in") {
		t.Errorf("--md over a merged record: exit %d\n%s", code, stderr)
	}
}

// pollClock is a clock --wait polls by that moves only when it sleeps, and
// calls tick after each sleep, as records appearing between polls.
type pollClock struct {
	now    time.Time
	slept  []time.Duration
	tick   func(round int)
	cancel bool // a sleep fails as if interrupted
}

func (c *pollClock) Now() time.Time { return c.now }

func (c *pollClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.cancel {
		return context.Canceled
	}
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	if c.tick != nil {
		c.tick(len(c.slept))
	}
	return nil
}

func TestMergeWaitsForTheExpectedShards(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 3, 0, nil)
	clock := &pollClock{now: mergeStart.Add(time.Minute)}
	clock.tick = func(round int) {
		switch round {
		case 3:
			writeShard(t, dir, "s2.json", base, 2, 3, 0, nil)
		case 5:
			writeShard(t, dir, "s1.json", base, 1, 3, 0, nil)
		}
	}
	out := filepath.Join(dir, "merged.json")
	o := &mergeOptions{reports: reportFlags{json: out}, expect: 3, wait: 10 * time.Second, paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, stdout, stderr := term.Test()
	code, err := o.run(context.Background(), streams)
	if err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if len(clock.slept) != 5 || clock.slept[0] != time.Second {
		t.Errorf("slept %v, want five polls of 1s", clock.slept)
	}
	// One line per change, not per poll.
	want := "evalrun: merge: waiting for shards 1, 2 of 3 (10s left)\nevalrun: merge: waiting for shard 1 of 3 (7s left)\n"
	if got := stderr.String(); !strings.HasPrefix(got, want) {
		t.Errorf("stderr:\n%s\nwant it to start\n%s", got, want)
	}
	if m := readRun(t, out); len(m.Load.Shards) != 3 || m.Incomplete != nil {
		t.Errorf("merged %v, incomplete %+v", m.Load.Shards, m.Incomplete)
	}
}

func TestMergeWaitRunsOut(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 3, 0, nil)
	for _, partial := range []bool{false, true} {
		clock := &pollClock{now: mergeStart}
		out := filepath.Join(t.TempDir(), "merged.json")
		o := &mergeOptions{reports: reportFlags{json: out}, expect: 3, wait: 2500 * time.Millisecond, partial: partial,
			paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
		streams, _, stderr := term.Test()
		code, err := o.run(context.Background(), streams)
		if got := fmt.Sprint(clock.slept); got != "[1s 1s 500ms]" {
			t.Errorf("partial %v: slept %s, want to the end of the wait", partial, got)
		}
		switch {
		case !partial && (code != exitUsage || err == nil || !strings.Contains(err.Error(), "after waiting 2.5s, shards 1, 2 are missing from the set of 3")):
			t.Errorf("exit %d, %v; want 2 naming the missing shards", code, err)
		case partial && (code != exitOK || err != nil || readRun(t, out).Incomplete == nil):
			t.Errorf("--allow-partial: exit %d, %v\n%s", code, err, stderr)
		}
	}

	// Interrupted while waiting, it stops and says what it waited for.
	clock := &pollClock{now: mergeStart, cancel: true}
	o := &mergeOptions{reports: reportFlags{json: filepath.Join(t.TempDir(), "m.json")}, expect: 3, wait: time.Minute,
		paths: []string{dir}, now: clock.Now, sleep: clock.Sleep}
	streams, _, stderr := term.Test()
	if code, err := o.run(context.Background(), streams); code == exitOK || err == nil || !strings.Contains(stderr.String(), "stopped while waiting for shards 1, 2 of 3") {
		t.Errorf("exit %d, %v\n%s", code, err, stderr)
	}
}

// Without --wait, a record missing from the directory is missing now.
func TestMergeExpectWithoutWait(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
	code, _, stderr := inProcess(t, "merge", "--expect", "2", "--json", filepath.Join(t.TempDir(), "m.json"), dir)
	if code != exitUsage || !strings.Contains(stderr, "shard 1 is missing from the set of 2") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	code, _, stderr = inProcess(t, "merge", "--expect", "-1", "--json", filepath.Join(t.TempDir(), "m.json"), dir)
	if code != exitUsage || !strings.Contains(stderr, "must not be negative") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	// A set no shard can belong to is refused at once, not waited for.
	code, _, stderr = inProcess(t, "merge", "--expect", "10001", "--wait", "1h", "--json", filepath.Join(t.TempDir(), "m.json"), dir)
	if code != exitUsage || !strings.Contains(stderr, "--expect 10001: a test has at most 10000 shards") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// While waiting, a PATH not there yet is waited for: a shard's file, or
// the directory no shard has written to yet.
func TestMergeWaitsForPathsToAppear(t *testing.T) {
	base := baseLoadRecord(t)
	dir := t.TempDir()
	records := filepath.Join(dir, "records")
	s0, s1 := filepath.Join(dir, "s0.json"), filepath.Join(records, "s1.json")
	clock := &pollClock{now: mergeStart}
	clock.tick = func(round int) {
		switch round {
		case 1:
			writeShard(t, dir, "s0.json", base, 0, 2, 0, nil)
		case 2:
			if err := os.Mkdir(records, 0o755); err != nil {
				t.Fatal(err)
			}
		case 4:
			writeShard(t, records, "s1.json", base, 1, 2, 0, nil)
		}
	}
	out := filepath.Join(dir, "merged.json")
	o := &mergeOptions{reports: reportFlags{json: out}, wait: time.Minute, paths: []string{s0, records}, now: clock.Now, sleep: clock.Sleep}
	streams, _, stderr := term.Test()
	code, err := o.run(context.Background(), streams)
	if err != nil || code != exitOK || len(clock.slept) != 4 {
		t.Fatalf("exit %d, %v after %d polls\n%s", code, err, len(clock.slept), stderr)
	}
	want := "evalrun: merge: waiting for " + s0 + ", " + records + " (1m0s left)\nevalrun: merge: waiting for shard 1 of 2 (59s left)\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant\n%s", stderr, want)
	}
	if m := readRun(t, out); len(m.Load.Shards) != 2 || m.Test.Parts[1].File != s1 {
		t.Errorf("merged %v", m.Load.Shards)
	}
	// When the wait is over, a PATH still absent is an error.
	o = &mergeOptions{reports: reportFlags{json: out}, wait: time.Second, paths: []string{s0, filepath.Join(dir, "never.json")}, now: clock.Now, sleep: clock.Sleep}
	if code, err := o.run(context.Background(), streams); code != exitUsage || err == nil || !strings.Contains(err.Error(), "never.json: no such file") {
		t.Errorf("exit %d, %v", code, err)
	}
}
