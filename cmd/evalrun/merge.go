package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
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
	base    string
	failOn  string
	paths   []string
}

func mergeFlags(o *mergeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	o.reports.register(fs, "also write a JUnit XML report to `FILE`", "write the merged record to `FILE` (required)")
	fs.Var(&o.exprs, "threshold", "apply `EXPR` too, besides the thresholds the records carry (repeatable; load records)")
	fs.BoolVar(&o.partial, "allow-partial", false, "merge the records of run --shard even when some shards of the set are missing")
	gateFlags(fs, &o.base, &o.failOn)
	return fs
}

func mergeCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	var o mergeOptions
	return withFlags(mergeFlags(&o), args, io, "merge --json OUT [flags] FILE.json...", func(paths []string) (int, error) {
		o.paths = paths
		return o.run(ctx, io)
	})
}

// run is the command with its flags parsed; tests call it with options
// and streams of their own.
func (o *mergeOptions) run(ctx context.Context, io *term.Streams) (int, error) {
	paths := o.paths
	if o.reports.json == "" || len(paths) == 0 {
		return exitUsage, usagef("merge: want --json OUT and at least one record to merge")
	}
	var gates []threshold.Threshold
	for _, expr := range o.exprs {
		th, err := threshold.Parse(expr)
		if err != nil {
			return exitUsage, usagef("merge: --threshold %v", err)
		}
		gates = append(gates, th)
	}
	var runs []*results.Run
	for i, p := range paths {
		run, err := readRecord(p)
		if err != nil {
			return exitUsage, usagef("merge: %v", err)
		}
		if len(runs) > 0 && (run.Load == nil) != (runs[0].Load == nil) {
			return exitUsage, usagef("merge: %s and %s: one is the record of `evalrun load`, the other of `evalrun run`; merge records of one kind", paths[0], paths[i])
		}
		runs = append(runs, run)
		if run.Load != nil {
			gates = append(gates, recordedThresholds(run)...)
		}
	}
	if runs[0].Load == nil {
		if len(o.exprs) > 0 {
			return exitUsage, usagef("merge: --threshold gates load records; these are records of `evalrun run`")
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
	merged, err := load.Merge(runs...)
	if err != nil {
		return exitUsage, usagef("merge: %s", mergeError(err, "load: merge: "))
	}
	outputs, err := openOutputs(nil, paths, o.reports.wants()...)
	if err != nil {
		return exitUsage, usagef("merge: %v", err)
	}
	return finishLoad(ctx, io, merged, gates, outputs)
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
			return exitUsage, usagef("merge: %s; merge every shard, or pass --allow-partial to merge these alone", msg)
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
