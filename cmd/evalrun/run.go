package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/evalrun/evalrun/internal/outfile"
	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// runOptions are the flags of `evalrun run`.
type runOptions struct {
	concurrency int
	baseURL     string
	reports     reportFlags
	noProgress  bool
	quiet       bool
	repeat      int
	tags        string
	filter      string
	failFast    bool
	baseline    string
	failOn      string
	shard       string
	paths       []string // the suite files and folders
}

func runFlags(o *runOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.IntVar(&o.concurrency, "c", runner.DefaultConcurrency, "conversations at once (short for --concurrency)")
	fs.IntVar(&o.concurrency, "concurrency", runner.DefaultConcurrency, "conversations at once; turns of one conversation stay in order")
	fs.StringVar(&o.baseURL, "base-url", "", "point every suite at this base URL (or \"sim\") instead of its provider.base_url")
	o.reports.register(fs, "write a JUnit XML report to `FILE`", "write the JSON record (schema evalrun/v1) to `FILE`; - is standard output, and the table then goes to standard error")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress bars or progress lines")
	fs.BoolVar(&o.quiet, "quiet", false, "print only a summary line: no table, no progress")
	fs.IntVar(&o.repeat, "repeat", 0, "run every conversation `N` times, overriding repeat in the suites")
	fs.StringVar(&o.tags, "tags", "", "run only conversations with at least one of these comma-separated `tags`")
	fs.StringVar(&o.filter, "filter", "", "run only conversations whose \"suite/name\" matches this `REGEX`")
	fs.BoolVar(&o.failFast, "fail-fast", false, "stop at the first conversation that fails or errors")
	gateFlags(fs, &o.baseline, &o.failOn)
	fs.StringVar(&o.shard, "shard", "", "run part `K/N` of the conversations (K from 0), split by a hash of suite/name, for evalrun merge")
	return fs
}

func runCmd(ctx context.Context, args []string, io *term.Streams) (code int, err error) {
	var o runOptions
	fs := runFlags(&o)
	return withFlags(fs, args, io, "run [flags] PATH...", func(paths []string) (int, error) {
		o.paths = paths
		return o.run(ctx, io)
	})
}

// run is the command with its flags parsed; tests call it with options
// and streams of their own.
func (o *runOptions) run(ctx context.Context, io *term.Streams) (code int, err error) {
	paths := o.paths
	if len(paths) == 0 {
		return exitUsage, usagef("run: name at least one suite file or folder")
	}
	if o.concurrency < 1 {
		return exitUsage, usagef("run: --concurrency must be at least 1, got %d", o.concurrency)
	}
	if o.repeat < 0 || o.repeat > suites.MaxRepeat {
		return exitUsage, usagef("run: --repeat must be from 1 to %d, got %d", suites.MaxRepeat, o.repeat)
	}
	var tags []string
	for _, tag := range strings.Split(o.tags, ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			tags = append(tags, tag)
		}
	}
	if o.tags != "" && len(tags) == 0 {
		return exitUsage, usagef("run: --tags %q names no tag", o.tags)
	}
	var filter *regexp.Regexp
	if o.filter != "" {
		var err error
		if filter, err = regexp.Compile(o.filter); err != nil {
			return exitUsage, usagef("run: --filter: %v", err)
		}
	}
	var shard runner.Shard
	if o.shard != "" {
		var err error
		if shard, err = runner.ParseShard(o.shard); err != nil {
			return exitUsage, usagef("run: %v", err)
		}
	}
	if o.baseURL != "" {
		if err := suites.CheckBaseURL(o.baseURL); err != nil {
			return exitUsage, usagef("run: --base-url: %v", err)
		}
	}

	gate, err := newGate("run", o.baseline, o.failOn)
	if err != nil {
		return exitUsage, err
	}

	loaded, err := suites.LoadPathsContext(ctx, paths, suites.Options{BaseURL: o.baseURL})
	if err != nil {
		return loadFailed(ctx, err, io.Err), nil
	}
	if err := gate.precheck("run", loaded); err != nil {
		return exitUsage, err
	}
	redact := secretsOf(loaded, io.Err)
	io, finish := hideSecrets(io, redact)
	defer func() { err = finish(err) }()

	outputs, err := openOutputs(redact, append(suiteFiles(loaded), gate.inputs()...), o.reports.wants()...)
	if err != nil {
		return exitUsage, usagef("run: %v", err)
	}
	defer outputs.discard() // a run that ends any other way leaves no temporary file
	stdoutTaken := outputs.bindStdout(io.Out)

	total, all := 0, 0
	for _, s := range loaded {
		for _, c := range s.Conversations {
			all++
			if shard.Has(s.Name, c.Name) {
				total++
			}
		}
	}
	if o.shard != "" {
		// Says why the table is shorter than the suites, in the job's log.
		fmt.Fprintf(io.Err, "evalrun: shard %v: %d of %d conversations\n", shard, total, all)
	}
	progress := report.NewProgress(io, total, o.noProgress || o.quiet)
	run, err := runner.Run(ctx, loaded, runner.Options{
		Concurrency: o.concurrency,
		BaseURL:     o.baseURL,
		OnDone:      progress.Done,
		Repeat:      o.repeat,
		Tags:        tags,
		Filter:      filter,
		FailFast:    o.failFast,
		Shard:       shard,
	})
	progress.Wait()
	if run != nil && run.Interrupted != "" {
		fmt.Fprintf(io.Err, "evalrun: stopped early: %s; unfinished conversations are marked as such\n", run.Interrupted)
	}
	if err != nil {
		outputs.discard()
		var sel *runner.SelectionError
		if errors.As(err, &sel) {
			return exitUsage, usagef("run: %v", err) // nothing was sent
		}
		return exitTrouble, err
	}

	// Traffic was sent: the verdicts are worth their reports even when
	// the baseline cannot be compared with them, and then the plain rule
	// gives the exit code.
	if err := gate.compare(run); err != nil {
		fmt.Fprintf(io.Err, "evalrun: warning: --baseline %s: %v; the reports hold no comparison\n", gate.path, err)
	}

	// The files first: a closed stdout (`| head`) must not cost the reports.
	werr := outputs.write(run)
	if err := printEnd(io, run, report.Table, gate.text, stdoutTaken, o.quiet); err != nil && werr == nil {
		werr = err
	}
	annotate(io, run, redact, gate.any)
	if werr != nil {
		return exitTrouble, werr
	}
	// A signal that came after the last conversation ended cut nothing
	// short: the verdicts stand, as the reports say.
	if code, ok := signalCode(ctx); ok && run.Interrupted != "" {
		return code, nil
	}
	return gate.code(run), nil
}

// verdictCode maps a run to its exit code: 1 when anything failed, errored
// or was left unfinished.
func verdictCode(run *results.Run) int {
	if run.Summary.Failed > 0 || run.Summary.Errored > 0 || run.Summary.Unfinished > 0 {
		return exitFailed
	}
	return exitOK
}

type reportFunc func(w io.Writer, run *results.Run) error

// outputs are report files opened before a run and written after it, each
// through the command's redactor.
type outputs struct {
	files  []*outfile.File
	fns    []reportFunc
	redact *providers.Redactor
	// quiet asks the command to print only the summary line where it
	// would print its table (see printEnd).
	quiet bool
}

// want asks for a report written by fn to path, given with flag; "" means
// not asked.
type want struct {
	flag, path string
	fn         reportFunc
	append     bool // add to the end of the file (outfile.Request.Append)
}

// openOutputs opens the requested report files before anything is sent, so
// that a bad path costs no traffic: none may be one of inputs, the files the
// command reads, nor two the same file (see outfile.OpenAll).
func openOutputs(redact *providers.Redactor, inputs []string, wants ...want) (outputs, error) {
	var reqs []outfile.Request
	var fns []reportFunc
	for _, w := range wants {
		if w.path != "" {
			reqs = append(reqs, outfile.Request{Flag: w.flag, Path: w.path, Append: w.append})
			fns = append(fns, w.fn)
		}
	}
	files, err := outfile.OpenAll(reqs, inputs)
	if err != nil {
		return outputs{}, err
	}
	return outputs{files: files, fns: fns, redact: redact}, nil
}

// write renders every report whole, hides the secrets in its final bytes
// and puts it in place; a report that cannot be rendered is not written.
// It returns the first error.
func (outs outputs) write(run *results.Run) error {
	var first error
	for i, f := range outs.files {
		var buf bytes.Buffer
		err := outs.fns[i](&buf, run)
		if err == nil {
			err = f.Commit(outs.redact.Bytes(buf.Bytes()))
		} else {
			f.Abort()
			err = fmt.Errorf("write %s: %w", f.Path(), err)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// discard gives up every report: the paths keep what they had.
func (outs outputs) discard() {
	for _, f := range outs.files {
		f.Abort()
	}
}

// suiteFiles are the files the suites were read from: the inputs no report
// may overwrite.
func suiteFiles(loaded []*suites.Suite) []string {
	var files []string
	for _, s := range loaded {
		files = append(files, s.File)
	}
	return files
}

// secretsOf returns the redactor for what the suites must never show: every
// provider and judge token and every value a provider or judge section read
// from the environment. A token too short to be told apart from ordinary text is not
// hidden, and warn says so.
func secretsOf(loaded []*suites.Suite, warn io.Writer) *providers.Redactor {
	var secrets []string
	for _, s := range loaded {
		if tok := s.Provider.Token.Value(); tok != "" {
			if len(tok) < providers.MinSecretLen {
				fmt.Fprintf(warn, "evalrun: warning: suite %s: the provider token is shorter than %d bytes, "+
					"too short to hide in output without garbling it; output may show it\n", s.Name, providers.MinSecretLen)
			}
			secrets = append(secrets, tok)
		}
		for _, e := range s.Provider.EnvSecrets {
			secrets = append(secrets, e.Value())
		}
		secrets = append(secrets, judgeSecrets(s, warn)...)
	}
	return providers.NewRedactor(secrets...)
}

// hideSecrets returns streams that redact everything written to them, and
// finish, which flushes them and redacts the command's error, which Main
// prints on the streams it was given.
func hideSecrets(streams *term.Streams, redact *providers.Redactor) (*term.Streams, func(error) error) {
	hidden := streams.Wrap(func(w io.Writer) io.Writer { return redact.Writer(w) })
	return hidden, func(err error) error {
		hidden.Flush()
		if err == nil {
			return nil
		}
		return &redactedError{err, redact}
	}
}

// redactedError is an error whose message has the secrets hidden; errors.As
// still finds what it wraps.
type redactedError struct {
	err    error
	redact *providers.Redactor
}

func (e *redactedError) Error() string { return e.redact.String(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
