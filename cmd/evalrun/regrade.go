package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// regradeOptions are the flags of `evalrun regrade`.
type regradeOptions struct {
	concurrency int
	reports     reportFlags
	quiet       bool
	baseline    string
	failOn      string
	paths       []string // the suite files and folders (regrade: the record first)
}

func regradeFlags(o *regradeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("regrade", flag.ContinueOnError)
	fs.IntVar(&o.concurrency, "c", runner.DefaultConcurrency, "conversations judged at once (short for --concurrency)")
	fs.IntVar(&o.concurrency, "concurrency", runner.DefaultConcurrency, "conversations judged at once; matters for checks that ask a service, such as a judge")
	o.reports.register(fs, "write a JUnit XML report to `FILE`", "write the regraded record (schema evalrun/v1) to `FILE`; - is standard output, and the table then goes to standard error")
	fs.BoolVar(&o.quiet, "quiet", false, "print only a summary line: no table")
	gateFlags(fs, &o.baseline, &o.failOn)
	return fs
}

// regradeCmd judges the replies of a recorded run again with the checks
// the suites have now, without sending anything to a bot.
func regradeCmd(ctx context.Context, args []string, io *term.Streams) (code int, err error) {
	var o regradeOptions
	fs := regradeFlags(&o)
	return withFlags(fs, args, io, "regrade [flags] RECORD.json PATH...", func(paths []string) (int, error) {
		o.paths = paths
		return o.run(ctx, io)
	})
}

// run is the command with its flags parsed; tests call it with options
// and streams of their own.
func (o *regradeOptions) run(ctx context.Context, io *term.Streams) (code int, err error) {
	paths := o.paths
	if len(paths) < 2 {
		return exitUsage, usagef("regrade: name the JSON record of a run, then the suite files or folders it ran")
	}
	if o.concurrency < 1 {
		return exitUsage, usagef("regrade: --concurrency must be at least 1, got %d", o.concurrency)
	}
	gate, err := newGate("regrade", o.baseline, o.failOn)
	if err != nil {
		return exitUsage, err
	}
	recPath := paths[0]
	rec, err := readRecord(recPath)
	if err != nil {
		return exitUsage, usagef("regrade: %v", err)
	}
	// No bot is asked, so the provider's secrets need not be set: an unset
	// variable is a warning, as in validate.
	loaded, err := suites.LoadPathsContext(ctx, paths[1:], suites.Options{
		MissingEnvWarns: true,
		Warn:            func(w *suites.Error) { fmt.Fprintf(io.Err, "%s: warning: %s\n", w.Pos, w.Msg) },
	})
	if err != nil {
		return loadFailed(ctx, err, io.Err), nil
	}
	if err := gate.precheck("regrade", loaded); err != nil {
		return exitUsage, err
	}
	redact := secretsOf(loaded, io.Err)
	io, finish := hideSecrets(io, redact)
	defer func() { err = finish(err) }()

	outputs, err := openOutputs(redact, append(append([]string{recPath}, suiteFiles(loaded)...), gate.inputs()...), o.reports.wants()...)
	if err != nil {
		return exitUsage, usagef("regrade: %v", err)
	}
	defer outputs.discard()
	stdoutTaken := outputs.bindStdout(io.Out)

	run, err := runner.Regrade(ctx, rec, loaded, runner.RegradeOptions{
		File:        recPath,
		Concurrency: o.concurrency,
		Redact:      redact.String,
	})
	if err != nil {
		outputs.discard()
		var re *runner.RegradeError
		if errors.As(err, &re) {
			return exitUsage, fmt.Errorf("regrade: %s cannot be judged by these suites: %w", recPath, err)
		}
		return exitTrouble, err
	}
	for _, n := range run.RegradedFrom.Notes {
		fmt.Fprintf(io.Err, "evalrun: note: %s\n", n)
	}
	if err := gate.compare(run); err != nil {
		outputs.discard()
		return exitTrouble, err
	}
	werr := outputs.write(run)
	if err := printEnd(io, run, report.Table, gate.text, stdoutTaken, o.quiet); err != nil && werr == nil {
		werr = err
	}
	annotate(io, run, redact, gate.any)
	if werr != nil {
		return exitTrouble, werr
	}
	return gate.code(run), nil
}
