package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
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
	fs.StringVar(&o.shard, "shard", "", "run part `K/N` of the load (K from 0): 1/N of the rate or users, for merging later")
	fs.StringVar(&o.testID, "test-id", "", "name the test `ID` in the record, for merge to check every shard belongs to it: 1 to 63 of a-z, 0-9 and '-' (default: derived from the suites, workload and --start-at, so that shards started alike agree)")
	fs.StringVar(&o.startAt, "start-at", "", "wait until `TIME` to start, so that shards on many machines start together: an RFC 3339 time such as 2026-12-01T10:30:00Z, or +D from now such as +30s")
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
	player, err := runner.NewPlayer(loaded, runner.Options{BaseURL: o.baseURL, FastHTTP: true, SkipJudged: !o.judge})
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
		fmt.Fprintf(io.Err, "evalrun: stopped early: %s\n", run.Interrupted)
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
		fmt.Fprintf(io.Err, "evalrun: shard %d/%d: thresholds are judged by merge on the whole test, not by this shard's exit code\n", shard.Index, shard.Count)
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

// options resolves the workload: each suite's load: section, in file order
// (two suites may not disagree), then every flag that was given. whole is
// the entire test's workload, part this process's: whole with --shard's
// part taken.
func (o *loadFlags) options(ss []*suites.Suite) (whole, part load.Options, err error) {
	var opts load.Options
	var from = map[string]string{} // setting -> suite file that set it
	take := func(s *suites.Suite, key string, apply func() bool) error {
		if !apply() {
			return fmt.Errorf("%s sets load.%s differently from %s; set it in one place, or with a flag", s.File, key, from[key])
		}
		if _, ok := from[key]; !ok {
			from[key] = s.File
		}
		return nil
	}
	for _, s := range ss {
		l := s.Load
		if l == nil {
			continue
		}
		for _, k := range l.Keys {
			var err error
			switch k.Name {
			case "rate":
				err = take(s, k.Name, func() bool { ok := opts.Rate == 0 || opts.Rate == l.Rate; opts.Rate = l.Rate; return ok })
			case "vus":
				err = take(s, k.Name, func() bool { ok := opts.VUs == 0 || opts.VUs == l.VUs; opts.VUs = l.VUs; return ok })
			case "duration":
				err = take(s, k.Name, func() bool {
					ok := opts.Duration == 0 || opts.Duration == l.Duration
					opts.Duration = l.Duration
					return ok
				})
			case "think_time":
				err = take(s, k.Name, func() bool {
					ok := opts.ThinkTime == 0 || opts.ThinkTime == l.ThinkTime
					opts.ThinkTime = l.ThinkTime
					return ok
				})
			case "max_in_flight":
				err = take(s, k.Name, func() bool {
					ok := opts.MaxInFlight == 0 || opts.MaxInFlight == l.MaxInFlight
					opts.MaxInFlight = l.MaxInFlight
					return ok
				})
			case "grace":
				err = take(s, k.Name, func() bool {
					ok := from["grace"] == "" || opts.Grace == *l.Grace
					opts.Grace = *l.Grace
					return ok
				})
			case "stages":
				err = take(s, k.Name, func() bool {
					ok := from["stages"] == ""
					opts.Stages = nil
					for _, st := range l.Stages {
						opts.Stages = append(opts.Stages, load.Stage{Duration: st.Duration, Target: st.Target})
					}
					return ok
				})
			}
			if err != nil {
				return opts, opts, err
			}
		}
	}

	if o.set["rate"] {
		opts.Rate = o.rate
		if !o.set["stage"] {
			opts.Stages = nil // --rate alone asks for a constant rate
		}
	}
	if o.set["vus"] {
		opts.VUs = o.vus
	}
	if o.set["duration"] {
		opts.Duration = o.duration
	}
	if o.set["think-time"] {
		opts.ThinkTime = o.thinkTime
	}
	if o.set["max-in-flight"] {
		opts.MaxInFlight = o.maxInFlight
	}
	if o.set["grace"] || from["grace"] == "" {
		opts.Grace = o.grace
	}
	if opts.Grace == 0 {
		opts.Grace = -1 // the engine reads 0 as "the default"; here 0 was asked for
	}
	if o.set["stage"] {
		opts.Stages = nil
		for _, s := range o.stages {
			d, target, err := suites.ParseStage(s)
			if err != nil {
				return opts, opts, fmt.Errorf("--stage %v", err)
			}
			opts.Stages = append(opts.Stages, load.Stage{Duration: d, Target: target})
		}
	}
	// A flag for one model replaces a suite's settings for the other:
	// --rate or --stage drops its vus and think_time, --vus its rate,
	// stages and max_in_flight. Flags that contradict each other stay, to
	// be refused below.
	if o.set["rate"] || o.set["stage"] {
		if !o.set["vus"] {
			opts.VUs = 0
		}
		if !o.set["think-time"] {
			opts.ThinkTime = 0
		}
	} else if o.set["vus"] {
		opts.Rate, opts.Stages = 0, nil
		if !o.set["max-in-flight"] {
			opts.MaxInFlight = 0
		}
	}

	// A rate that is not a positive number (NaN, -1) still asks for the
	// open model; Validate below says what is wrong with it.
	open := opts.Rate != 0 || len(opts.Stages) > 0
	switch {
	case open && opts.VUs != 0:
		return opts, opts, errors.New("--rate/--stage (open model) and --vus (closed model) exclude each other; keep one")
	case !open && opts.VUs == 0:
		return opts, opts, errors.New("say how much load: --rate R (new conversations per second) or --vus N (virtual users), here or in a suite's load: section")
	case opts.Duration == 0 && len(opts.Stages) == 0:
		return opts, opts, errors.New("say how long: --duration D (or --stage ramps, whose total is the duration)")
	case opts.MaxInFlight > 0 && !open:
		return opts, opts, errors.New("--max-in-flight caps the open model; the closed model has --vus conversations in flight at most")
	case opts.ThinkTime > 0 && open:
		return opts, opts, errors.New("--think-time paces the closed model's users; the open model (--rate/--stage) starts conversations on its own schedule")
	}
	// shard divides the stages in place: whole keeps its own.
	whole = opts
	whole.Stages = slices.Clone(opts.Stages)
	if o.shard != "" {
		if err := shard(&opts, o.shard); err != nil {
			return whole, opts, err
		}
	}
	// The bounds are load's, the same for flags and suite values, and hold
	// per process: after --shard has taken this machine's part.
	if err := opts.Validate(); err != nil {
		return whole, opts, o.named(err)
	}
	return whole, opts, nil
}

// flagOf is the flag of each suite load: key that Validate may refuse.
var flagOf = map[string]string{
	"rate": "rate", "vus": "vus", "max_in_flight": "max-in-flight",
	"duration": "duration", "think_time": "think-time", "grace": "grace",
}

// named renames each setting Validate refused after the flag that gave it
// (--max-in-flight for max_in_flight), so the user knows what to change; a
// value from a suite keeps its load: key. A value --shard divided says so,
// since it is not the one typed.
func (o *loadFlags) named(err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		var se *load.SettingError
		if !errors.As(e, &se) || !o.set[flagOf[se.Key]] {
			continue
		}
		value := se.Value
		if o.shard != "" && (se.Key == "rate" || se.Key == "vus" || se.Key == "max_in_flight") {
			value += " (this shard's part)"
		}
		out[i] = fmt.Errorf("--%s %s: %s", flagOf[se.Key], value, se.Want)
	}
	return errors.Join(out...)
}

// shard keeps part K of N of the load: 1/N of every rate, or of the users,
// and of the cap on conversations in flight.
func shard(opts *load.Options, spec string) error {
	sh, err := runner.ParseShard(spec)
	if err != nil {
		return err
	}
	k, n := sh.Index, sh.Count
	// part is shard k's share of a whole number, the first whole mod n
	// shards taking one more, so that the shares add up to the whole.
	part := func(whole int, what string) (int, error) {
		share := whole / n
		if k < whole%n {
			share++
		}
		if share == 0 {
			return 0, fmt.Errorf("--shard %s: %d %s cannot be split into %d shards", spec, whole, what, n)
		}
		return share, nil
	}
	if opts.VUs > 0 {
		opts.VUs, err = part(opts.VUs, "virtual users")
		return err
	}
	opts.Rate /= float64(n)
	for i := range opts.Stages {
		opts.Stages[i].Target /= float64(n)
	}
	if opts.MaxInFlight > 0 {
		opts.MaxInFlight, err = part(opts.MaxInFlight, "conversations in flight (--max-in-flight)")
	}
	return err
}
