package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evalrun/evalrun/internal/outfile"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
)

// reportFlags are the report files a command can write; each is "" when not
// asked for.
type reportFlags struct {
	junit, json, md, html string
}

// register adds --junit, --json, --md and --html to fs; the JUnit and JSON
// help differs by command.
func (r *reportFlags) register(fs *flag.FlagSet, junitHelp, jsonHelp string) {
	fs.StringVar(&r.junit, "junit", "", junitHelp)
	fs.StringVar(&r.json, "json", "", jsonHelp)
	fs.StringVar(&r.md, "md", "", "write a GitHub-flavoured Markdown summary to `FILE`, e.g. \"$GITHUB_STEP_SUMMARY\"")
	fs.StringVar(&r.html, "html", "", "write a self-contained HTML report to `FILE`")
}

// wants lists the reports asked for, for openOutputs. The Markdown goes at
// the end of GitHub's step summary, which earlier commands of the step may
// have written to as well (`>> "$GITHUB_STEP_SUMMARY"`).
func (r *reportFlags) wants() []want {
	return []want{
		{flag: "--junit", path: r.junit, fn: report.JUnit},
		{flag: "--json", path: r.json, fn: report.JSON},
		{flag: "--md", path: r.md, fn: r.writeMarkdown, append: r.toStepSummary()},
		{flag: "--html", path: r.html, fn: report.HTML},
	}
}

// toStepSummary reports whether --md names GitHub's step summary.
func (r *reportFlags) toStepSummary() bool {
	summary := os.Getenv("GITHUB_STEP_SUMMARY")
	return summary != "" && r.md != "" && sameFile(r.md, summary)
}

// markdown sizes the Markdown for where it goes: GitHub's step summary
// takes 1 MiB in all, so the report gets what the step has not used yet
// (ok is false when that is less than the Markdown writer needs); anything
// else is kept to what a pull-request comment takes. A shortened document
// points at the fullest report written beside it.
func (r *reportFlags) markdown() (opts report.MarkdownOptions, ok bool) {
	ok = true
	if r.toStepSummary() {
		opts.MaxBytes = report.MarkdownStepSummaryLimit
		if fi, err := os.Stat(r.md); err == nil && fi.Mode().IsRegular() {
			opts.MaxBytes -= int(min(fi.Size(), report.MarkdownStepSummaryLimit))
		}
		ok = opts.MaxBytes >= report.MarkdownMinLimit
	}
	// A report on standard output ("-") is no file to point at.
	switch {
	case r.html != "" && r.html != outfile.Stdout:
		opts.FullReport = filepath.Base(r.html)
	case r.json != "" && r.json != outfile.Stdout:
		opts.FullReport = filepath.Base(r.json)
	}
	return opts, ok
}

// writeMarkdown is the --md report, sized when it is written: by then the
// step summary holds what the commands before this one added. When the
// summary has no room left for a report, a line says where to read it.
func (r *reportFlags) writeMarkdown(w io.Writer, run *results.Run) error {
	opts, ok := r.markdown()
	if !ok {
		where := opts.FullReport
		if where == "" {
			where = "the table in the job's log"
		}
		_, err := fmt.Fprintf(w, "\nevalrun: the step summary is nearly full (GitHub keeps 1 MiB), so the report is left out; see %s.\n", where)
		return err
	}
	return report.Markdown(w, run, opts)
}

// sameFile reports whether two paths name one file, by spelling or, when
// both exist, by identity.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
