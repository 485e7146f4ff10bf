package main

import (
	"os"

	"github.com/evalrun/evalrun/internal/term"
	"github.com/evalrun/evalrun/providers"
	"github.com/evalrun/evalrun/report"
	"github.com/evalrun/evalrun/results"
)

// getenv reads the environment variables term.Streams does not decide on.
// It is a variable so that tests choose the environment rather than inherit
// the one they run in: a test run that is itself a GitHub Actions job must
// not see annotations it did not ask for.
var getenv = os.Getenv

// annotate prints the run's failures as GitHub workflow commands when the
// command runs in a GitHub Actions job (GITHUB_ACTIONS=true), so they land
// on the suites' lines in the pull request. They go to standard error, which
// the runner scans for commands as it does standard output: standard output
// stays the table's (or the record's, with --json -), and a pipe reading it
// gets no commands mixed in. failOnAny is --fail-on any.
//
// redact hides the secrets before the text is escaped for the command; the
// streams redact what is written too. A write error is not worth failing a
// run whose reports are written, so it is dropped like any other line on
// standard error.
func annotate(streams *term.Streams, run *results.Run, redact *providers.Redactor, failOnAny bool) {
	if getenv("GITHUB_ACTIONS") != "true" || run == nil {
		return
	}
	_ = report.GitHubAnnotations(streams.Err, run, report.GitHubOptions{FailOnAny: failOnAny, Redact: redact.String})
}
