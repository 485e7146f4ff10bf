package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/load"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/threshold"
)

// readRecord reads a JSON record written by --json.
func readRecord(path string) (*results.Run, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var run results.Run
	if err := json.Unmarshal(raw, &run); err != nil {
		return nil, fmt.Errorf("%s: not an evalrun JSON record: %v", path, err)
	}
	if run.Schema != results.Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q (a file written by evalrun --json)", path, run.Schema, results.Schema)
	}
	return &run, nil
}

func mergeCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	out := fs.String("json", "", "write the merged record to `FILE` (required)")
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`")
	var exprs repeated
	fs.Var(&exprs, "threshold", "apply `EXPR` too, besides the thresholds the records carry (repeatable)")
	paths, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(io.Out, fs, "merge --json OUT [flags] FILE.json...")
		return exitOK, err
	}
	if err != nil {
		return exitUsage, err
	}
	if *out == "" || len(paths) == 0 {
		return exitUsage, usagef("merge: want --json OUT and at least one record to merge")
	}
	var gates []threshold.Threshold
	for _, expr := range exprs {
		th, err := threshold.Parse(expr)
		if err != nil {
			return exitUsage, usagef("merge: --threshold %v", err)
		}
		gates = append(gates, th)
	}
	var runs []*results.Run
	for _, p := range paths {
		run, err := readRecord(p)
		if err != nil {
			return exitUsage, usagef("merge: %v", err)
		}
		if run.Load == nil {
			return exitUsage, usagef("merge: %s is the record of `evalrun run`; only load records carry histograms to merge", p)
		}
		runs = append(runs, run)
		gates = append(gates, recordedThresholds(run)...)
	}
	merged, err := load.Merge(runs...)
	if err != nil {
		return exitUsage, usagef("merge: %v", err)
	}
	outputs, err := openOutputs(nil, paths, want{"--json", *out, report.JSON}, want{"--junit", *junit, report.JUnit})
	if err != nil {
		return exitUsage, usagef("merge: %v", err)
	}
	return finishLoad(ctx, io, merged, gates, outputs)
}

// recordedThresholds re-reads the thresholds a record was judged by, so a
// merge judges the whole by the same gates.
func recordedThresholds(run *results.Run) []threshold.Threshold {
	var out []threshold.Threshold
	for _, t := range run.Load.Thresholds {
		if th, err := threshold.Parse(t.Expr); err == nil {
			out = append(out, th)
		}
	}
	return out
}

func reportCmd(args []string, io *term.Streams) (int, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	junit := fs.String("junit", "", "write a JUnit XML report to `FILE`")
	js := fs.String("json", "", "write the record again to `FILE`")
	paths, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(io.Out, fs, "report [flags] FILE.json")
		return exitOK, err
	}
	if err != nil {
		return exitUsage, err
	}
	if len(paths) != 1 {
		return exitUsage, usagef("report: name exactly one JSON record")
	}
	run, err := readRecord(paths[0])
	if err != nil {
		return exitUsage, usagef("report: %v", err)
	}
	outputs, err := openOutputs(nil, paths, want{"--junit", *junit, report.JUnit}, want{"--json", *js, report.JSON})
	if err != nil {
		return exitUsage, usagef("report: %v", err)
	}
	table := report.Table
	if run.Load != nil {
		table = report.LoadTable
	}
	// The files first: a closed stdout (`| head`) must not cost the reports.
	werr := outputs.write(run)
	if err := table(io.Out, run, report.TableOptions{}); err != nil && werr == nil {
		werr = fmt.Errorf("print the table: %w", err)
	}
	if werr != nil {
		return exitTrouble, werr
	}
	return recordCode(run), nil
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
