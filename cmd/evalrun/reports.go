package main

import (
	"flag"
	"os"
	"path/filepath"

	"github.com/evalrun/evalrun/internal/outfile"
	"github.com/evalrun/evalrun/report"
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

// wants lists the reports asked for, for openOutputs.
func (r *reportFlags) wants() []want {
	return []want{
		{"--junit", r.junit, report.JUnit},
		{"--json", r.json, report.JSON},
		{"--md", r.md, report.MarkdownReporter(r.markdown()).Report},
		{"--html", r.html, report.HTML},
	}
}

// markdown sizes the Markdown for where it goes: GitHub's step summary
// takes 1 MiB, anything else is kept to what a pull-request comment takes.
// A shortened document points at the fullest report written beside it.
func (r *reportFlags) markdown() report.MarkdownOptions {
	var opts report.MarkdownOptions
	if summary := os.Getenv("GITHUB_STEP_SUMMARY"); summary != "" && r.md != "" && sameFile(r.md, summary) {
		opts.MaxBytes = report.MarkdownStepSummaryLimit
	}
	// A report on standard output ("-") is no file to point at.
	switch {
	case r.html != "" && r.html != outfile.Stdout:
		opts.FullReport = filepath.Base(r.html)
	case r.json != "" && r.json != outfile.Stdout:
		opts.FullReport = filepath.Base(r.json)
	}
	return opts
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
