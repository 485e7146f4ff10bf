package report

import (
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evalrun/evalrun/results"
)

// MaxGitHubAnnotations is how many annotations of one level GitHub shows for
// a step: 10 errors and 10 warnings (and 50 for the whole job). Workflow
// commands beyond that are accepted and dropped without a word, so
// GitHubAnnotations stops short of it and says what it left out.
const MaxGitHubAnnotations = 10

// GitHubOptions say how GitHubAnnotations judges a run.
type GitHubOptions struct {
	// FailOnAny is --fail-on any. Without it, a run compared with a baseline
	// is not failed by conversations that were failing there already, so
	// those are warnings, not errors: what the pull request shows agrees
	// with the exit code.
	FailOnAny bool
	// Max caps the annotations of each level; 0 means MaxGitHubAnnotations.
	Max int
	// Redact, when set, hides secrets in every text before it is escaped.
	// The escaped form of a secret (a "%" written as "%25") is not one a
	// redactor reading the output afterwards would recognise.
	Redact func(string) string
}

// annotation is one GitHub workflow command: ::level props::message.
type annotation struct {
	level   string // "error" or "warning"
	file    string
	line    int
	title   string
	message []string // lines; the command carries them escaped on one line
}

// Limits that keep an annotation readable in a pull request's diff view; the
// reports keep everything.
const (
	maxAnnotationTitleRunes = 200
	maxAnnotationLineRunes  = 500
)

// GitHubAnnotations writes the run's problems as GitHub Actions workflow
// commands, one a line, so that they appear on the suite's lines in a pull
// request: an ::error for every conversation that fails the build (failed,
// errored or unfinished) at the conversation's file and line, and a
// ::warning for every flaky one and for failures a baseline excuses. The
// message is the first failure, located (turn, check, what was expected and
// what came back). A load run with thresholds is judged by them: a crossed
// threshold is an ::error without a file, and its sampled conversations are
// not annotated.
//
// At most opts.Max annotations of each level are written; when there are
// more, the last one allowed says how many were left out. Everything the
// suite or the bot wrote is escaped as GitHub's runner expects, so no reply
// can end the command early or start another one.
func GitHubAnnotations(w io.Writer, run *results.Run, opts GitHubOptions) error {
	if run == nil {
		return nil
	}
	limit := opts.Max
	if limit <= 0 {
		limit = MaxGitHubAnnotations
	}
	errs, warns := githubAnnotations(run, opts)
	var b strings.Builder
	redact := opts.Redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	for _, list := range [][]annotation{capAnnotations(errs, limit), capAnnotations(warns, limit)} {
		for _, a := range list {
			b.WriteString(a.command(redact))
			b.WriteByte('\n')
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("report: github annotations: %w", err)
	}
	return nil
}

// githubAnnotations returns the errors and the warnings for run, in run order.
func githubAnnotations(run *results.Run, opts GitHubOptions) (errs, warns []annotation) {
	if run.Load != nil && len(run.Load.Thresholds) > 0 {
		for _, th := range run.Load.Thresholds {
			if th.Passed {
				continue
			}
			a := annotation{level: "error", title: "evalrun: threshold crossed",
				message: []string{th.Expr + ": measured " + formatMeasured(th)}}
			if th.Missing {
				a.title, a.message = "evalrun: threshold without data", []string{th.Expr + ": nothing was measured"}
			}
			errs = append(errs, a)
		}
		return errs, warns
	}

	type key struct{ suite, name string }
	excused := map[key]bool{}
	if run.Comparison != nil && !opts.FailOnAny {
		for _, ch := range run.Comparison.StillFailing {
			excused[key{ch.Suite, ch.Name}] = true
		}
	}
	for _, c := range conversations(run) {
		a := annotation{file: annotationFile(c.File), line: c.Line}
		name := c.Suite + " / " + c.Name
		failures := c.Failures()
		switch c.Status {
		case results.Failed:
			a.message = firstFailure(c, failures, "failed")
			if excused[key{c.Suite, c.Name}] {
				a.level, a.title = "warning", "evalrun: "+name+" still failing"
				a.message[0] = "failing in the baseline too, so not a regression: " + a.message[0]
				warns = append(warns, a)
				continue
			}
			a.level, a.title = "error", "evalrun: "+name+" failed"
			if c.Runs > 1 {
				a.message[0] = "passed " + runsLabel(c) + " runs; first failing run: " + a.message[0]
			}
		case results.Errored:
			var cause []results.Failure
			for _, f := range failures {
				if f.Check == "error" {
					cause = append(cause, f)
				}
			}
			a.level, a.title = "error", "evalrun: "+name+" errored"
			a.message = firstFailure(c, cause, "errored")
		case results.Unfinished:
			a.level, a.title = "error", "evalrun: "+name+" unfinished"
			a.message = []string{strings.TrimSpace("unfinished: " + c.Reason)}
		case results.Flaky:
			a.level, a.title = "warning", "evalrun: "+name+" is flaky"
			a.message = firstFailure(c, failures, "")
			rate := "passed " + runsLabel(c) + " runs"
			if a.message[0] == "" {
				a.message[0] = rate
			} else {
				a.message[0] = rate + "; first failing run: " + a.message[0]
			}
		default:
			continue
		}
		if a.level == "error" {
			errs = append(errs, a)
		} else {
			warns = append(warns, a)
		}
	}
	return errs, warns
}

// firstFailure is the message of an annotation: the first of failures,
// located, and how many more there are; or c's reason, or fallback.
func firstFailure(c *results.Conversation, failures []results.Failure, fallback string) []string {
	switch {
	case len(failures) == 0 && c.Reason != "":
		return []string{c.Reason}
	case len(failures) == 0:
		return []string{fallback}
	}
	lines := []string{failureText(failures[0])}
	if n := len(failures) - 1; n > 0 {
		lines = append(lines, "and "+plural(n, "more failure")+": see the JUnit or Markdown report")
	}
	return lines
}

// capAnnotations keeps at most limit annotations; when it drops some, the
// last kept one counts them instead, so that GitHub shows it too.
func capAnnotations(list []annotation, limit int) []annotation {
	if len(list) <= limit {
		return list
	}
	kept := append([]annotation(nil), list[:limit-1]...)
	left := len(list) - len(kept)
	what := "problems"
	if list[0].level == "warning" {
		what = "warnings"
	}
	return append(kept, annotation{
		level: list[0].level,
		title: "evalrun: " + strconv.Itoa(left) + " more " + what,
		message: []string{strconv.Itoa(left) + " more " + what + " are not annotated (GitHub shows " +
			strconv.Itoa(MaxGitHubAnnotations) + " per step): see the step summary or the JUnit report"},
	})
}

// annotationFile is a suite's file as GitHub matches it against the files of
// the repository: forward slashes, no "./".
func annotationFile(file string) string {
	if file == "" {
		return ""
	}
	return path.Clean(filepath.ToSlash(file))
}

// command renders a as one workflow command line, without the line break;
// redact sees every text first.
func (a annotation) command(redact func(string) string) string {
	var props []string
	if a.file != "" {
		props = append(props, "file="+escapeProperty(redact(a.file)))
		if a.line > 0 {
			props = append(props, "line="+strconv.Itoa(a.line))
		}
	}
	if a.title != "" {
		props = append(props, "title="+escapeProperty(truncate(oneLine(redact(a.title)), maxAnnotationTitleRunes)))
	}
	lines := make([]string, len(a.message))
	for i, l := range a.message {
		lines[i] = truncate(oneLine(redact(l)), maxAnnotationLineRunes)
	}
	cmd := "::" + a.level
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	return cmd + "::" + escapeData(strings.Join(lines, "\n"))
}

// escapeData escapes a workflow command's message as GitHub's runner
// unescapes it (actions/toolkit, core's command.ts): the percent sign first,
// then the line breaks that would end the command.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value: as escapeData, and also the
// colon and comma that end a value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
