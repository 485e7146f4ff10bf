package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
	"github.com/evalrun/evalrun/runner"
	"github.com/evalrun/evalrun/suites"
)

// runOptions are the flags of `evalrun run`.
type runOptions struct {
	concurrency int
	baseURL     string
	junit       string
	json        string
	noProgress  bool
	repeat      int
	tags        string
	filter      string
	failFast    bool
}

func runFlags(o *runOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.IntVar(&o.concurrency, "c", runner.DefaultConcurrency, "conversations at once (short for --concurrency)")
	fs.IntVar(&o.concurrency, "concurrency", runner.DefaultConcurrency, "conversations at once; turns of one conversation stay in order")
	fs.StringVar(&o.baseURL, "base-url", "", "point every suite at this base URL (or \"sim\") instead of its provider.base_url")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&o.json, "json", "", "write the JSON record (schema evalrun/v1) to `FILE`")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress bars or progress lines")
	fs.IntVar(&o.repeat, "repeat", 0, "run every conversation `N` times, overriding repeat in the suites")
	fs.StringVar(&o.tags, "tags", "", "run only conversations with at least one of these comma-separated `tags`")
	fs.StringVar(&o.filter, "filter", "", "run only conversations whose \"suite/name\" matches this `REGEX`")
	fs.BoolVar(&o.failFast, "fail-fast", false, "stop at the first conversation that fails or errors")
	return fs
}

func runCmd(ctx context.Context, args []string, io *term.Streams) (int, error) {
	var o runOptions
	fs := runFlags(&o)
	paths, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(io.Out, fs, "run [flags] PATH...")
		return exitOK, err
	}
	if err != nil {
		return exitUsage, err
	}
	if len(paths) == 0 {
		return exitUsage, usagef("run: name at least one suite file or folder")
	}
	if o.concurrency < 1 {
		return exitUsage, usagef("run: --concurrency must be at least 1, got %d", o.concurrency)
	}
	if o.repeat < 0 {
		return exitUsage, usagef("run: --repeat must be 1 or more, got %d", o.repeat)
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
	if o.baseURL != "" {
		if err := suites.CheckBaseURL(o.baseURL); err != nil {
			return exitUsage, usagef("run: --base-url: %v", err)
		}
	}

	loaded, err := suites.LoadPathsContext(ctx, paths, suites.Options{BaseURL: o.baseURL})
	if err != nil {
		fmt.Fprintln(io.Err, err)
		return exitUsage, nil
	}

	// Open the report files before sending anything, so a bad path costs no traffic.
	outputs, err := openOutputs(want{o.junit, report.JUnit}, want{o.json, report.JSON})
	if err != nil {
		return exitUsage, usagef("run: %v", err)
	}

	total := 0
	for _, s := range loaded {
		total += len(s.Conversations)
	}
	progress := report.NewProgress(io, total, o.noProgress)
	run, err := runner.Run(ctx, loaded, runner.Options{
		Concurrency: o.concurrency,
		BaseURL:     o.baseURL,
		OnDone:      progress.Done,
		Repeat:      o.repeat,
		Tags:        tags,
		Filter:      filter,
		FailFast:    o.failFast,
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

	if err := report.Table(io.Out, run, report.TableOptions{}); err != nil {
		return exitTrouble, err
	}
	if err := outputs.write(run); err != nil {
		return exitTrouble, err
	}
	var sig *signalError
	if errors.As(context.Cause(ctx), &sig) {
		return sig.exitCode(), nil
	}
	return verdictCode(run), nil
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

// outputs are report files opened before a run and written after it.
type outputs []output

type output struct {
	file  *os.File
	write reportFunc
}

// want asks for a report written by fn to path; "" means not asked.
type want struct {
	path string
	fn   reportFunc
}

// openOutputs creates the requested report files. Two reports asked for at
// one path would overwrite each other, so that is refused.
func openOutputs(wants ...want) (outputs, error) {
	var out outputs
	seen := map[string]bool{}
	for _, w := range wants {
		path, fn := w.path, w.fn
		if path == "" {
			continue
		}
		if seen[filepath.Clean(path)] {
			out.discard()
			return nil, fmt.Errorf("two reports are asked for at %s; give each its own file", path)
		}
		seen[filepath.Clean(path)] = true
		f, err := os.Create(path)
		if err != nil {
			out.discard()
			return nil, err
		}
		out = append(out, output{f, fn})
	}
	return out, nil
}

func (outs outputs) write(run *results.Run) error {
	var first error
	for _, o := range outs {
		err := o.write(o.file, run)
		if cerr := o.file.Close(); err == nil {
			err = cerr
		}
		if err != nil && first == nil {
			first = fmt.Errorf("write %s: %w", o.file.Name(), err)
		}
	}
	return first
}

func (outs outputs) discard() {
	for _, o := range outs {
		o.file.Close()
		os.Remove(o.file.Name())
	}
}
