package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
	"github.com/evalrun/evalrun/threshold"
)

// readRecord reads and checks a JSON record written by --json (see
// report.ReadRecord).
func readRecord(path string) (*results.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return report.ReadRecord(f, path)
}

// mergeOptions are the flags of `evalrun merge` and the records it merges.
type mergeOptions struct {
	reports reportFlags
	exprs   repeated
	partial bool
	expect  int
	wait    time.Duration
	testID  string
	base    string
	failOn  string
	paths   []string

	// now and sleep are the clock --wait polls by; nil means the real one.
	// Tests give their own, so that waiting takes no time.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// pollEvery is how often --wait looks again for the records it lacks.
const pollEvery = time.Second

func mergeFlags(o *mergeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	o.reports.register(fs, "also write a JUnit XML report to `FILE`", "write the merged record to `FILE` (required)")
	fs.Var(&o.exprs, "threshold", "apply `EXPR` too, besides the thresholds the records carry (repeatable; load records)")
	fs.BoolVar(&o.partial, "allow-partial", false, "merge the records of --shard runs even when some shards of the set are missing;\nthe merged record and every report say it is incomplete")
	fs.IntVar(&o.expect, "expect", 0, "refuse the set unless it is of exactly `N` shards")
	fs.StringVar(&o.testID, "test-id", "", "merge only the records of the test `ID` (load --test-id): in a directory, records of\nother tests are skipped; a record named that is of another test is refused")
	fs.DurationVar(&o.wait, "wait", 0, "wait up to `D` (e.g. 10m) for every shard's record to appear in the PATHs (records,\nor directories of *.json records), looking again every second; then merge what is there")
	gateFlags(fs, &o.base, &o.failOn)
	return fs
}

func mergeCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	var o mergeOptions
	return withFlags(mergeFlags(&o), args, io, "merge --json OUT [flags] PATH...", func(paths []string) (int, error) {
		o.paths = paths
		return o.run(ctx, io)
	})
}

// run is the command with its flags parsed; tests call it with options
// and streams of their own.
func (o *mergeOptions) run(ctx context.Context, io *term.Streams) (int, error) {
	if o.reports.json == "" || len(o.paths) == 0 {
		return exitUsage, usagef("merge: want --json OUT and at least one record (or directory of records) to merge")
	}
	if o.expect > suites.MaxShards {
		return exitUsage, usagef("merge: --expect %d: a test has at most %d shards", o.expect, suites.MaxShards)
	}
	if o.expect < 0 || o.wait < 0 {
		return exitUsage, usagef("merge: --expect and --wait must not be negative")
	}
	if o.testID != "" {
		if err := load.CheckTestID(o.testID); err != nil {
			return exitUsage, usagef("merge: --test-id %q: %v", o.testID, err)
		}
	}
	var gates []threshold.Threshold
	for _, expr := range o.exprs {
		th, err := threshold.Parse(expr)
		if err != nil {
			return exitUsage, usagef("merge: --threshold %v", err)
		}
		gates = append(gates, th)
	}
	paths, runs, code, err := o.collect(ctx, io)
	if err != nil || code != exitOK {
		return code, err
	}
	for i, run := range runs {
		if (run.Load == nil) != (runs[0].Load == nil) {
			return exitUsage, usagef("merge: %s and %s: one is the record of `evalrun load`, the other of `evalrun run`; merge records of one kind", paths[0], paths[i])
		}
		if run.Load != nil {
			gates = append(gates, recordedThresholds(run)...)
		}
	}
	if runs[0].Load == nil {
		if len(o.exprs) > 0 {
			return exitUsage, usagef("merge: --threshold gates load records; these are records of `evalrun run`")
		}
		if n, _ := heldShards(runs); o.expect > 0 && n != o.expect {
			return exitUsage, usagef("merge: the records are shards of a set of %d, but --expect %d", n, o.expect)
		}
		gate, err := newGate("merge", o.base, o.failOn)
		if err != nil {
			return exitUsage, err
		}
		return mergeRuns(ctx, io, runs, paths, o.reports, gate, o.partial)
	}
	if o.base != "" || o.failOn != "" {
		return exitUsage, usagef("merge: --baseline and --fail-on compare records of `evalrun run`; these are load records")
	}
	merged, err := load.MergeSet(load.MergeOptions{Files: paths, AllowPartial: o.partial, Expect: o.expect}, runs...)
	if err != nil {
		msg := mergeError(err, "load: merge: ")
		var set *runner.ShardSetError
		if errors.As(err, &set) {
			if o.wait > 0 {
				msg = fmt.Sprintf("after waiting %v, %s", o.wait, msg)
			}
			return exitUsage, usagef("merge: %s; merge every shard, or pass --allow-partial to merge these alone: %s", msg, foundText(paths))
		}
		return exitUsage, usagef("merge: %s", msg)
	}
	if inc := merged.Incomplete; inc != nil {
		set := &runner.ShardSetError{Count: inc.Shards, Missing: inc.Missing}
		fmt.Fprintf(io.Err, "evalrun: warning: --allow-partial: %v; the merged figures are those of %d of %d shards, and the reports say so\n",
			set, inc.Shards-len(inc.Missing), inc.Shards)
	}
	outputs, err := openOutputs(nil, paths, o.reports.wants()...)
	if err != nil {
		return exitUsage, usagef("merge: %v", err)
	}
	return finishLoad(ctx, io, merged, gates, outputs)
}

// collect reads the records the PATHs name. With --wait it looks again,
// every pollEvery, until the records make up every shard of one test's set
// (of --expect shards, or of as many as the records say) or the wait is
// over, then returns what there is: merge says what is still missing.
//
// While it waits, what may yet become a record of the test is waited for,
// not refused: a PATH not there yet, a file that cannot be read as a
// record yet (a copy that is not renamed into place whole, over NFS say,
// shows its first bytes first), a named file of another test than
// --test-id (the new shard's record will replace the old one's), and
// records of more than one test in a directory without --test-id (the
// same). When the wait is over, each of those is refused as it is.
//
// In a directory, records of other tests than --test-id and records that
// are themselves merges (an earlier merge's output under another name:
// merging it with its own shards would count them twice) are skipped, and
// stderr says so once.
func (o *mergeOptions) collect(ctx context.Context, io *term.Streams) ([]string, []*results.Run, int, error) {
	now, sleep := o.now, o.sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	start := now()
	deadline := start.Add(o.wait)
	said, lastSaid := "", start
	notes := map[string]bool{}
	for {
		left := deadline.Sub(now())
		waiting := o.wait > 0 && left > 0
		after := "" // when the wait is over, what is refused was waited for
		if o.wait > 0 && !waiting {
			after = fmt.Sprintf("after waiting %v, ", o.wait)
		}
		// While waiting, a PATH not there yet is one to wait for: the
		// directory of a volume no shard has written to, a shard's file.
		found, absent, err := o.recordPaths(waiting)
		if err != nil {
			return nil, nil, exitUsage, usagef("merge: %s%v", after, err)
		}
		var (
			paths, unread, foreign, merges []string
			runs                           []*results.Run
			others                         = map[string]int{}
		)
		for _, f := range found {
			run, err := readRecord(f.path)
			switch {
			case err != nil && waiting:
				unread = append(unread, f.path)
				continue
			case errors.Is(err, report.ErrCorrupt):
				return nil, nil, exitUsage, usagef("merge: %s%v; run that shard again, or leave its record out and merge the others with --allow-partial", after, err)
			case err != nil:
				return nil, nil, exitUsage, usagef("merge: %s%v", after, err)
			case f.scanned && isMerged(run):
				merges = append(merges, f.path)
				continue
			}
			if id := recordTestID(run); o.testID != "" && id != o.testID {
				switch {
				case f.scanned:
					others[id]++
					continue
				case waiting:
					foreign = append(foreign, f.path)
					continue
				}
				return nil, nil, exitUsage, usagef("merge: %s%s is a record of test %s, not of --test-id %s; name the records of test %s, or give --test-id %s to merge that test",
					after, f.path, idText(id), o.testID, o.testID, idText(id))
			}
			paths = append(paths, f.path)
			runs = append(runs, run)
		}
		for _, note := range skipNotes(o.testID, others, merges) {
			if !notes[note] {
				fmt.Fprintln(io.Err, note)
				notes[note] = true
			}
		}
		n, held := heldShards(runs)
		if o.expect > 0 {
			n = o.expect
		}
		missing := missingShards(n, held)
		tests := testIDs(runs)
		if !waiting || len(runs) > 0 && len(missing) == 0 && len(absent)+len(unread)+len(foreign) == 0 && len(tests) <= 1 {
			if len(runs) == 0 {
				what := "no records in " + strings.Join(o.paths, ", ")
				if len(others) > 0 || len(merges) > 0 {
					what = "no records to merge in " + strings.Join(o.paths, ", ") + ": each was skipped, as said above"
				}
				return nil, nil, exitUsage, usagef("merge: %s%s", after, what)
			}
			return paths, runs, exitOK, nil
		}
		var what string
		switch {
		case len(tests) > 1:
			what = "the records of one test (found tests " + strings.Join(tests, ", ") + "; give --test-id to merge one)"
		case len(runs) == 0 && len(absent)+len(unread)+len(foreign) == 0:
			what = "the first record"
		case len(missing) > 0:
			what = shardList(missing, n)
		case len(absent) > 0:
			what = strings.Join(absent, ", ")
		}
		if len(unread) > 0 {
			what = joinWhat(what, strings.Join(unread, ", ")+" to be readable as a record")
		}
		if len(foreign) > 0 {
			what = joinWhat(what, strings.Join(foreign, ", ")+" to be a record of test "+o.testID)
		}
		t := now()
		if what != said || t.Sub(lastSaid) >= stillEvery {
			if what == said {
				fmt.Fprintf(io.Err, "evalrun: merge: still waiting for %s (%v left)\n", what, left.Round(time.Second))
			} else {
				fmt.Fprintf(io.Err, "evalrun: merge: waiting for %s (%v left)\n", what, left.Round(time.Second))
			}
			said, lastSaid = what, t
		}
		if err := sleep(ctx, min(pollEvery, left)); err != nil {
			fmt.Fprintf(io.Err, "evalrun: merge: stopped while waiting for %s\n", what)
			if code, ok := signalCode(ctx); ok {
				return nil, nil, code, nil
			}
			return nil, nil, exitTrouble, fmt.Errorf("merge: stopped while waiting: %w", err)
		}
	}
}

// stillEvery is how often --wait says again what it is waiting for when
// nothing changed, so that a log shows the merge is alive.
const stillEvery = 30 * time.Second

func joinWhat(a, b string) string {
	if a == "" {
		return b
	}
	return a + " and " + b
}

// recordTestID is a record's test id, "" when it has no test identity.
func recordTestID(r *results.Run) string {
	if r.Test == nil {
		return ""
	}
	return r.Test.ID
}

func idText(id string) string {
	if id == "" {
		return "(none: the record has no test identity)"
	}
	return id
}

// testIDs lists the different test ids of runs, in order of appearance.
func testIDs(runs []*results.Run) []string {
	var out []string
	for _, r := range runs {
		if id := idText(recordTestID(r)); !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// skipNotes are the stderr lines that say what a directory scan skipped:
// records of other tests than id (others counts them by test id) and the
// records of earlier merges.
func skipNotes(id string, others map[string]int, merges []string) []string {
	var notes []string
	if len(others) > 0 {
		ids := slices.Sorted(maps.Keys(others))
		total := 0
		for i, k := range ids {
			total += others[k]
			ids[i] = fmt.Sprintf("%s (%d)", idText(k), others[k])
		}
		what := "records"
		if total == 1 {
			what = "record"
		}
		notes = append(notes, fmt.Sprintf("evalrun: merge: skipping %d %s of other tests than --test-id %s: %s", total, what, id, strings.Join(ids, ", ")))
	}
	if len(merges) > 0 {
		notes = append(notes, fmt.Sprintf("evalrun: merge: skipping %s: an earlier merge's record, which merged with its own shards would count them twice; name it to merge it", strings.Join(merges, ", ")))
	}
	return notes
}

// isMerged reports whether r is a record merged from others (an earlier
// merge's output) rather than a shard's or a whole run's own.
func isMerged(r *results.Run) bool {
	return r.Shard == nil && (r.Test != nil && len(r.Test.Parts) > 0 || r.Load != nil && len(r.Load.Shards) > 0 || len(r.Merged) > 0)
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// recordPaths lists the records the PATHs name: a file as it is, a
// directory as every *.json file in it (not in its subdirectories) but
// hidden ones (internal/outfile's temporary files among them), temporary
// ones (*.tmp) and this merge's own outputs, in name order. A file named
// twice is read twice, and merge refuses it as a record counted twice.
// While waiting, a PATH that does not exist yet is listed in absent rather
// than an error.
func (o *mergeOptions) recordPaths(waiting bool) (paths []foundPath, absent []string, err error) {
	var out []foundPath
	add := func(p string, scanned bool) { out = append(out, foundPath{p, scanned}) }
	outputs := o.reports.wants()
	for _, p := range o.paths {
		info, err := os.Stat(p)
		if waiting && errors.Is(err, fs.ErrNotExist) {
			absent = append(absent, p)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if !info.IsDir() {
			add(p, false)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || !strings.HasSuffix(name, ".json") || !e.Type().IsRegular() {
				continue
			}
			path := filepath.Join(p, name)
			if i := slices.IndexFunc(outputs, func(out want) bool { return out.path != "" && sameFile(out.path, path) }); i >= 0 {
				// The scan must not read what this merge is about to write,
				// but neither may the merge write over a record it would
				// otherwise have read: that loses a shard's record. Only a
				// previous merge's own output is fair to replace (a re-run
				// of the Kubernetes merge Job writes merged.json into the
				// directory it merges).
				if err := replaceable(outputs[i], path, p); err != nil {
					return nil, nil, err
				}
				continue
			}
			add(path, true)
		}
	}
	return out, absent, nil
}

// foundPath is a record's file, and whether a directory scan found it
// (rather than it being named).
type foundPath struct {
	path    string
	scanned bool
}

// replaceable says whether output, which names path, a *.json file in the
// directory dir that merge scans, may be written over: when path holds no
// record (the scan would have failed on it anyway: a report of an earlier
// merge, say), or, for --json, when it is a record merged from others, an
// earlier merge's output. A shard's own record is refused, whichever report
// would replace it.
func replaceable(output want, path, dir string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r results.Run
	if json.Unmarshal(raw, &r) != nil || r.Schema != results.Schema {
		return nil
	}
	if output.flag == "--json" && isMerged(&r) {
		return nil
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) && !strings.HasSuffix(dir, "/") {
		dir += string(filepath.Separator)
	}
	what := "the merged record"
	if output.flag != "--json" {
		what = "the report"
	}
	return fmt.Errorf("%s %s is one of the records in %s; write %s elsewhere", output.flag, output.path, dir, what)
}

// heldShards returns the size of the set the records are shards of (the
// largest N they give; 1 for a whole run) and the shards they hold, those
// of merged records included.
func heldShards(runs []*results.Run) (int, map[int]bool) {
	n, held := 0, map[int]bool{}
	add := func(s *results.Shard) {
		if s == nil {
			s = &results.Shard{Index: 0, Count: 1}
		}
		if s.Count > 0 && s.Count <= suites.MaxShards {
			n = max(n, s.Count)
			held[s.Index] = true
		}
	}
	for _, r := range runs {
		switch {
		case r.Test != nil && len(r.Test.Parts) > 0:
			for _, p := range r.Test.Parts {
				add(p.Shard)
			}
		case len(r.Merged) > 0:
			for _, m := range r.Merged {
				add(m.Shard)
			}
		default:
			add(r.Shard)
		}
	}
	return n, held
}

// foundShown is how many of the records found a missing-shard error names.
const foundShown = 4

// foundText names the records merge found, so that a shard missing because
// its record went elsewhere (another directory, a typo) shows: "a.json,
// b.json", or the first few and how many more.
func foundText(paths []string) string {
	if len(paths) <= foundShown {
		return strings.Join(paths, ", ")
	}
	return strings.Join(paths[:foundShown], ", ") + " and " + strconv.Itoa(len(paths)-foundShown) + " more"
}

// shardList is "shard 2 of 4" or "shards 2, 3 of 4".
func shardList(ks []int, n int) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = strconv.Itoa(k)
	}
	what := "shard "
	if len(ks) > 1 {
		what = "shards "
	}
	return what + strings.Join(s, ", ") + " of " + strconv.Itoa(n)
}

// missingShards lists the shards of a set of n that held lacks.
func missingShards(n int, held map[int]bool) []int {
	var out []int
	for k := range min(n, suites.MaxShards) {
		if !held[k] {
			out = append(out, k)
		}
	}
	return out
}

// mergeRuns merges the records of `evalrun run` (the shards of a
// `run --shard` set, typically), compares the whole with the baseline if
// there is one, and exits as run would have for the merged verdicts.
func mergeRuns(ctx context.Context, io *term.Streams, runs []*results.Run, paths []string, reports reportFlags, gate *gate, partial bool) (int, error) {
	merged, err := runner.Merge(runs, runner.MergeOptions{AllowPartial: partial})
	if err != nil {
		msg := mergeError(err, "runner: merge: ")
		var set *runner.ShardSetError
		if errors.As(err, &set) {
			return exitUsage, usagef("merge: %s; merge every shard, or pass --allow-partial to merge these alone: %s", msg, foundText(paths))
		}
		return exitUsage, usagef("merge: %s", msg)
	}
	if e := runner.MissingShards(runs); e != nil {
		fmt.Fprintf(io.Err, "evalrun: warning: --allow-partial: %v; their conversations are not in the merged record\n", e)
	}
	if err := gate.compare(merged); err != nil {
		return exitUsage, usagef("merge: --baseline %s: %v", gate.path, err)
	}
	outputs, err := openOutputs(nil, append(paths, gate.inputs()...), reports.wants()...)
	if err != nil {
		return exitUsage, usagef("merge: %v", err)
	}
	if merged.Interrupted != "" {
		fmt.Fprintf(io.Err, "evalrun: a merged run stopped early: %s; unfinished conversations are marked as such\n", merged.Interrupted)
	}
	// The files first: a closed stdout (`| head`) must not cost the reports.
	werr := outputs.write(merged)
	if err := report.Table(io.Out, merged, report.TableOptions{}); err != nil && werr == nil {
		werr = fmt.Errorf("print the table: %w", err)
	}
	if err := gate.text(io.Out, merged); err != nil && werr == nil {
		werr = fmt.Errorf("print the comparison: %w", err)
	}
	// The merge is where a sharded set's verdicts meet: the shards' jobs
	// annotated their own parts, this step the whole.
	annotate(io, merged, nil, gate.any)
	if werr != nil {
		return exitTrouble, werr
	}
	if code, ok := signalCode(ctx); ok {
		return code, nil
	}
	return gate.code(merged), nil
}

// stoppedEarly is what finishLoad says of a record that was stopped early:
// "stopped early: …" of a run, and of a merge, which ran to its end, which
// of its parts were: "shard 2/4 stopped early after 4.1s: terminated",
// so that it does not read as if the merge itself had been killed.
func stoppedEarly(run *results.Run) string {
	if parts := report.StoppedParts(run.Test); len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	return "stopped early: " + run.Interrupted
}

// mergeError is the message of a library's merge error without the
// library's "pkg: merge: " prefix, which the command's own "merge: "
// already says.
func mergeError(err error, prefix string) string {
	return strings.TrimPrefix(err.Error(), prefix)
}

// recordedThresholds re-reads the thresholds a record was judged by, so a
// merge judges the whole by the same gates.
func recordedThresholds(run *results.Run) []threshold.Threshold {
	var out []threshold.Threshold
	for _, r := range readRecorded(run) {
		out = append(out, r.th)
	}
	return out
}

// recorded is a threshold of a load record that this evalrun can read, and
// where the record keeps its verdict.
type recorded struct {
	i  int // in run.Load.Thresholds
	th threshold.Threshold
}

// readRecorded parses the thresholds of a load record. One this evalrun
// cannot read (a newer one wrote it, or a hand edit) is left out: its
// recorded verdict is all there is to go on.
func readRecorded(run *results.Run) []recorded {
	if run.Load == nil {
		return nil
	}
	var out []recorded
	for i, t := range run.Load.Thresholds {
		if th, err := threshold.Parse(t.Expr); err == nil {
			out = append(out, recorded{i, th})
		}
	}
	return out
}

// reportOptions are the flags of `evalrun report` and the record it reads.
type reportOptions struct {
	reports reportFlags
	base    string
	failOn  string
	paths   []string
}

func reportFlagSet(o *reportOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	o.reports.register(fs, "write a JUnit XML report to `FILE`", "write the record again to `FILE`")
	gateFlags(fs, &o.base, &o.failOn)
	return fs
}

func reportCmd(args []string, io *term.Streams) (int, error) {
	var o reportOptions
	return withFlags(reportFlagSet(&o), args, io, "report [flags] FILE.json", func(paths []string) (int, error) {
		o.paths = paths
		return o.run(io)
	})
}

// run is the command with its flags parsed; tests call it with options
// and streams of their own.
func (o *reportOptions) run(io *term.Streams) (int, error) {
	paths, reports := o.paths, o.reports
	if len(paths) != 1 {
		return exitUsage, usagef("report: name exactly one JSON record")
	}
	gate, err := newGate("report", o.base, o.failOn)
	if err != nil {
		return exitUsage, err
	}
	run, err := readRecord(paths[0])
	if err != nil {
		return exitUsage, usagef("report: %v", err)
	}
	rejudge(run)
	if run.Load != nil && gate.base != nil {
		return exitUsage, usagef("report: --baseline compares records of evalrun run; %s is a load record", paths[0])
	}
	if err := gate.compare(run); err != nil {
		return exitUsage, usagef("report: --baseline %s: %v", o.base, err)
	}
	outputs, err := openOutputs(nil, append(paths, gate.inputs()...), reports.wants()...)
	if err != nil {
		return exitUsage, usagef("report: %v", err)
	}
	table := report.Table
	if run.Load != nil {
		table = report.LoadTable
	}
	stdoutTaken := outputs.bindStdout(io.Out)
	// The files first: a closed stdout (`| head`) must not cost the reports.
	werr := outputs.write(run)
	if err := printEnd(io, run, table, gate.text, stdoutTaken, false); err != nil && werr == nil {
		werr = err
	}
	// As the command that wrote the record would have: for a load record,
	// the thresholds just judged again.
	annotate(io, run, nil, gate.any)
	if werr != nil {
		return exitTrouble, werr
	}
	if run.Load == nil {
		return gate.code(run), nil
	}
	if sh := run.Shard; sh != nil {
		// A shard plays its share of the test, and its thresholds judge
		// that share alone: as load --shard does, report shows them and
		// leaves the verdict to merge, so that a CI step reporting each
		// shard does not fail on what the whole test may pass.
		judged := "its conversations' verdicts are"
		if len(run.Load.Thresholds) > 0 {
			judged = "thresholds are"
		}
		fmt.Fprintf(io.Err, "evalrun: shard %d/%d: %s judged by merge on the whole test, not by this shard's exit code\n", sh.Index, sh.Count, judged)
		return exitOK, nil
	}
	return recordCode(run), nil
}

// rejudge evaluates a load record's thresholds again on its percentiles,
// which readRecord recomputed from the histograms: a gate a record passed
// at a rounded rank must fail here if the standard value crosses it. A
// threshold this evalrun cannot read stays as recorded.
func rejudge(run *results.Run) {
	for _, r := range readRecorded(run) {
		run.Load.Thresholds[r.i] = r.th.Evaluate(run)
	}
}

// recordCode is the exit code a record stands for: 1 when a threshold was
// crossed, or, without thresholds, when a conversation failed or errored.
func recordCode(run *results.Run) int {
	if run.Load != nil && run.Interrupted != "" {
		// As finishLoad judged it when merge wrote it: a test that did not
		// run as planned cannot pass, whatever its thresholds say.
		return exitFailed
	}
	if run.Load != nil && len(run.Load.Thresholds) > 0 {
		for _, t := range run.Load.Thresholds {
			if !t.Passed {
				return exitFailed
			}
		}
		return exitOK
	}
	return verdictCode(run)
}
