package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
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

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// loadFlags are the flags of `evalrun load`; set records which were given,
// because a given flag wins over the suites' load: section.
type loadFlags struct {
	rate        float64
	vus         int
	duration    time.Duration
	stages      repeated
	thinkTime   time.Duration
	maxInFlight int
	grace       time.Duration
	thresholds  repeated
	shard       string
	testID      string
	startAt     string
	baseURL     string
	paths       []string // the suite files and folders
	reports     reportFlags
	noProgress  bool
	quiet       bool
	judge       bool
	set         map[string]bool
	// clock is the time --start-at is read and waited on; nil is the real
	// one. Tests set it.
	clock load.Clock
}

// now is the time on o.clock.
func (o *loadFlags) now() time.Time {
	if o.clock != nil {
		return o.clock.Now()
	}
	return time.Now()
}

func loadFlagSet(o *loadFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.Float64Var(&o.rate, "rate", 0, "open model: start `R` new conversations per second")
	fs.IntVar(&o.vus, "vus", 0, "closed model: `N` virtual users, each looping over the conversations")
	fs.DurationVar(&o.duration, "duration", 0, "how long to start conversations (default: the stages' total)")
	fs.Var(&o.stages, "stage", "ramp linearly to `D:TARGET` conversations/s over D, starting from --rate at 0s; stages follow each other, then the last target holds (repeatable), e.g. 30s:50")
	fs.DurationVar(&o.thinkTime, "think-time", 0, "closed model: pause between two conversations of a user")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 0, "open model: at most `N` conversations at once; starts that find no slot wait, and are dropped if the window closes first")
	fs.DurationVar(&o.grace, "grace", load.DefaultGrace, "after --duration, let conversations in flight finish for this long")
	fs.Var(&o.thresholds, "threshold", "fail the run (exit 1) unless `EXPR` holds, e.g. turn_latency.p95<2s (repeatable)")
	fs.StringVar(&o.shard, "shard", "", "run part `K/N` of the load (K from 0): every N-th start of the schedule from start K, or 1/N of the users, for merging later")
	fs.StringVar(&o.testID, "test-id", "", "name the test `ID` in the record, for merge to check every shard belongs to it: 1 to 63 of a-z, 0-9 and '-' (default: derived from the suites, workload and --start-at, so that shards started alike agree)")
	fs.StringVar(&o.startAt, "start-at", "", "wait until `TIME` to start, so that shards start together: an RFC 3339 time such as 2026-12-01T10:30:00Z, the one to give shards on many machines; or +D from now such as +30s, only for shards started at once on one machine (each machine would plan its own start, and derive its own test id)")
	fs.StringVar(&o.baseURL, "base-url", "", "point every suite at this base URL (or \"sim\")")
	o.reports.register(fs, "write a JUnit XML report (a testcase per threshold) to `FILE`", "write the JSON record with the mergeable histograms to `FILE`; - is standard output, and the table then goes to standard error")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress bars or status lines")
	fs.BoolVar(&o.quiet, "quiet", false, "print only a summary line: no table, no progress")
	fs.BoolVar(&o.judge, "judge", false, "run the judged checks (judge, similar), which are skipped under load because each costs an LLM request")
	return fs
}

func loadCmd(ctx context.Context, args []string, io *term.Streams) (code int, err error) {
	o := loadFlags{set: map[string]bool{}}
	fs := loadFlagSet(&o)
	return withFlags(fs, args, io, "load [flags] PATH...", func(paths []string) (int, error) {
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
		o.paths = paths
		return o.run(ctx, io)
	})
}

// run is the command with its flags parsed; tests call it with options
// and streams of their own.
func (o *loadFlags) run(ctx context.Context, io *term.Streams) (code int, err error) {
	paths := o.paths
	if len(paths) == 0 {
		return exitUsage, usagef("load: name at least one suite file or folder")
	}
	if o.baseURL != "" {
		if err := suites.CheckBaseURL(o.baseURL); err != nil {
			return exitUsage, usagef("load: --base-url: %v", err)
		}
	}
	if o.testID != "" {
		if err := load.CheckTestID(o.testID); err != nil {
			return exitUsage, usagef("load: --test-id %q: %v", o.testID, err)
		}
	}
	var startAt time.Time
	if o.startAt != "" {
		if startAt, err = load.ParseStartAt(o.startAt, o.now()); err != nil {
			return exitUsage, usagef("load: --start-at %v", err)
		}
	}
	var gates []threshold.Threshold
	for _, expr := range o.thresholds {
		th, err := threshold.Parse(expr)
		if err != nil {
			return exitUsage, usagef("load: --threshold %v", err)
		}
		gates = append(gates, th)
	}

	loaded, err := suites.LoadPathsContext(ctx, paths, suites.Options{BaseURL: o.baseURL, JudgeOff: !o.judge})
	if err != nil {
		return loadFailed(ctx, err, io.Err), nil
	}
	redact := secretsOf(loaded, io.Err)
	io, finish := hideSecrets(io, redact)
	defer func() { err = finish(err) }()
	whole, opts, err := o.options(loaded)
	if err != nil {
		return exitUsage, usagef("load: %v", err)
	}
	if o.shard != "" && o.reports.json == "" {
		// A shard's exit code does not judge its slice (see finishLoad):
		// its record, merged with the others', is the only verdict, and
		// a shard that keeps none loads the service for a test nobody
		// can judge.
		return exitUsage, usagef("load: --shard needs --json FILE: a shard does not judge its slice, evalrun merge judges the shards' records together; without a record nothing judges this shard's load")
	}
	for _, s := range loaded {
		for _, t := range s.Thresholds {
			gates = append(gates, threshold.MustParse(t.Expr)) // checked when the suite loaded
		}
	}
	// The identity is of the whole test, before --shard took this
	// machine's part, so that every shard names the same test.
	whole.StartAt, opts.StartAt, opts.Clock = startAt, startAt, o.clock
	var exprs []string
	for _, g := range dedupe(gates) {
		exprs = append(exprs, g.String())
	}
	id := load.Identify(loaded, whole, load.Setup{TestID: o.testID, BaseURL: o.baseURL, Judge: o.judge, Thresholds: exprs})
	opts.Identity = &id
	var shardOf *results.Shard
	if o.shard != "" {
		sh, err := runner.ParseShard(o.shard) // options has checked it
		if err != nil {
			return exitUsage, usagef("load: %v", err)
		}
		shardOf = &results.Shard{Index: sh.Index, Count: sh.Count}
	}
	outputs, err := openOutputs(redact, suiteFiles(loaded), o.reports.wants()...)
	if err != nil {
		return exitUsage, usagef("load: %v", err)
	}
	defer outputs.discard() // a run that ends any other way leaves no temporary file
	outputs.quiet = o.quiet

	if os.Getenv("GOGC") == "" {
		// Thousands of conversations in flight hold little live memory, so
		// the heap is mostly garbage between collections: collecting at 50%
		// growth instead of 100% cuts the peak RSS by a sixth for a few
		// percent more CPU. GOGC, when set, wins.
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
	// A load record keeps only a sample and cannot be regraded, so plays
	// keep no replies for it: each would be held as long as its
	// conversation is in flight.
	player, err := runner.NewPlayer(loaded, runner.Options{BaseURL: o.baseURL, FastHTTP: true, SkipJudged: !o.judge, SkipObserved: true})
	if err != nil {
		outputs.discard()
		return exitTrouble, err
	}
	defer player.Close()
	window := opts.Duration
	if window == 0 {
		window = load.Ramp{Start: opts.Rate, Stages: opts.Stages}.End()
	}
	// The display begins with the load: a bar drawn while waiting for
	// --start-at would stand still, and lines written under it garble it.
	var progress report.LoadProgress
	opts.OnStart = func(at time.Time) {
		if late := at.Sub(startAt); !startAt.IsZero() && late > load.LateStart {
			fmt.Fprintf(io.Err, "evalrun: started %s after --start-at %s: this shard began late, its load is shifted against the others'\n", late.Round(100*time.Millisecond), startAt.Format(time.RFC3339Nano))
		}
		progress = report.NewLoadProgress(io, window, o.noProgress || o.quiet)
	}
	opts.OnTick = func(s load.Snapshot) {
		progress.Update(report.LoadSnapshot{
			Elapsed: s.Elapsed, Duration: s.Duration, TargetRate: s.TargetRate, AchievedRate: s.AchievedRate,
			InFlight: s.InFlight, Started: s.Started, Dropped: s.Dropped, Errors: s.Errors, P95: s.P95,
		})
	}
	if wait := startAt.Sub(o.now()); !startAt.IsZero() && wait > 0 && !o.quiet {
		fmt.Fprintf(io.Err, "evalrun: waiting for --start-at %s (in %s)\n", startAt.Format(time.RFC3339Nano), wait.Round(100*time.Millisecond))
	}
	run, err := load.Run(ctx, player, loaded, opts)
	if progress != nil {
		progress.Wait()
	}
	if run != nil {
		run.Summary.Judge = player.JudgeSummary()
		run.Shard = shardOf
	}
	if errors.Is(err, load.ErrNotStarted) {
		// Stopped before the planned start: nothing was sent, so no record
		// is written; merge will find this shard missing, which it is.
		outputs.discard()
		fmt.Fprintln(io.Err, "evalrun: stopped while waiting for --start-at: nothing was sent and no record written")
		if code, ok := signalCode(ctx); ok {
			return code, nil
		}
		return exitTrouble, err
	}
	if err != nil {
		// Run refuses only options it cannot play and suites with nothing
		// to play, before sending anything: a usage error.
		outputs.discard()
		return exitUsage, usagef("%v", err)
	}
	return finishLoad(ctx, io, run, gates, outputs)
}

// finishLoad applies the thresholds to a load record, prints its table,
// writes the reports and returns the exit code; load and merge share it.
//
// A shard's record (run.Shard set; merge's never is) is evaluated and its
// thresholds recorded and shown, but they do not decide its exit code,
// nor do its conversations that did not pass: one shard holds a slice of
// the load, whose percentiles and rates are not the test's, and a shard
// that exits 1 fails its Kubernetes pod, which can take the other shards
// down with the Job. merge judges the whole. A shard's exit code says only
// whether it ran: 0, or 3 when its reports could not be written, or the
// signal's when it was stopped.
//
// With outputs.quiet, only the summary line is printed.
func finishLoad(ctx context.Context, io *term.Streams, run *results.Run, gates []threshold.Threshold, outputs outputs) (int, error) {
	var passed bool
	run.Load.Thresholds, passed = threshold.EvaluateAll(dedupe(gates), run)
	if run.Interrupted != "" {
		fmt.Fprintf(io.Err, "evalrun: %s\n", stoppedEarly(run))
	}
	shard := run.Shard
	stdoutTaken := outputs.bindStdout(io.Out)
	// The files first: a closed stdout (`| head`) must not cost the reports.
	werr := outputs.write(run)
	if err := printEnd(io, run, report.LoadTable, nil, stdoutTaken, outputs.quiet); err != nil && werr == nil {
		werr = err
	}
	annotate(io, run, outputs.redact, false)
	if werr != nil {
		return exitTrouble, werr
	}
	code, signalled := signalCode(ctx)
	switch {
	case signalled && run.Interrupted != "":
		return code, nil
	case shard != nil:
		// Without thresholds the whole is judged on its conversations'
		// verdicts; "thresholds" would name something the test has not.
		judged := "its conversations' verdicts are"
		if len(gates) > 0 {
			judged = "thresholds are"
		}
		fmt.Fprintf(io.Err, "evalrun: shard %d/%d: %s judged by merge on the whole test, not by this shard's exit code\n", shard.Index, shard.Count, judged)
		return exitOK, nil
	case run.Interrupted != "":
		// A merged shard was stopped early: the test did not run as
		// planned, so its thresholds cannot pass it.
		fmt.Fprintln(io.Err, "evalrun: a record was stopped early, so the run is incomplete and cannot pass")
		return exitFailed, nil
	case len(gates) > 0 && !passed:
		return exitFailed, nil
	case len(gates) == 0 && run.Summary.Failed+run.Summary.Errored+run.Summary.Unfinished > 0:
		// With no thresholds to judge the run, fall back to run's rule,
		// where a conversation the grace period cut short did not pass.
		return exitFailed, nil
	}
	return exitOK, nil
}

// dedupe drops thresholds given twice (by a suite and a flag, or by two
// records being merged), keeping the first.
func dedupe(ts []threshold.Threshold) []threshold.Threshold {
	seen := map[string]bool{}
	var out []threshold.Threshold
	for _, t := range ts {
		if key := t.String(); !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	return out
}

// options resolves the workload (see load.FromSuites): the suites' load:
// sections, then every flag that was given. whole is the entire test, the
// same on every shard; part is what this process plays: with --shard, its
// share of the whole. The bounds hold per process, so they are checked on
// part.
func (o *loadFlags) options(ss []*suites.Suite) (whole, part load.Options, err error) {
	whole, err = load.FromSuites(ss)
	if err != nil {
		return whole, whole, err
	}
	flags := o.flags()
	if whole, err = whole.Override(flags); err != nil {
		return whole, whole, err
	}
	part = whole
	if o.shard != "" {
		sh, err := runner.ParseShard(o.shard)
		if err != nil {
			return whole, part, err
		}
		if part, err = whole.Shard(sh.Index, sh.Count); err != nil {
			return whole, part, err
		}
	}
	return whole, part, flags.Name(part.Validate(), o.shard != "")
}

// flags are the workload's flags that were given.
func (o *loadFlags) flags() load.Flags {
	var f load.Flags
	if o.set["rate"] {
		f.Rate = &o.rate
	}
	if o.set["vus"] {
		f.VUs = &o.vus
	}
	if o.set["duration"] {
		f.Duration = &o.duration
	}
	if o.set["stage"] {
		f.Stages = append([]string{}, o.stages...)
	}
	if o.set["think-time"] {
		f.ThinkTime = &o.thinkTime
	}
	if o.set["max-in-flight"] {
		f.MaxInFlight = &o.maxInFlight
	}
	if o.set["grace"] {
		f.Grace = &o.grace
	}
	return f
}
