package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/evalrun/evalrun/results"
)

// loadJUnit reports a load run by what gates it, so that CI tools read the
// same verdict as the exit code: one testsuite "load" with a testcase per
// threshold (failed when crossed, errored when its metric had no data) and
// one testcase "conversations". That one is an error when the run was
// interrupted (it exits non-zero whatever the thresholds say); with no
// thresholds to judge the run it fails when a conversation failed, and is
// an error when conversations only errored or were left unfinished (cut
// short by the grace period), as `evalrun load` then exits 1. A record
// merged from some shards only (--allow-partial) has a testcase "shards",
// skipped, that says which are missing.
func loadJUnit(run *results.Run) junitSuites {
	doc := junitSuites{Name: "evalrun", Time: junitTime(run.DurationMS)}
	if !run.StartedAt.IsZero() {
		doc.Timestamp = run.StartedAt.UTC().Format(time.RFC3339)
	}
	s := junitSuite{Name: "load", Time: doc.Time, Timestamp: doc.Timestamp}
	for _, th := range run.Load.Thresholds {
		tc := junitCase{Name: xmlText(th.Expr), Classname: "thresholds", Time: "0"}
		measured := formatMeasured(th)
		switch {
		case th.Missing:
			tc.Error = clean(&junitOutcome{Type: "missing", Message: th.Expr + ": the run measured nothing for this metric"})
		case !th.Passed:
			tc.Failure = clean(&junitOutcome{Type: "threshold", Message: fmt.Sprintf("%s: measured %s", th.Expr, measured)})
		default:
			tc.SystemOut = &junitText{Text: "measured " + measured}
		}
		s.Cases = append(s.Cases, tc)
	}

	sum := run.Summary
	conv := junitCase{Name: "conversations", Classname: "load", Time: doc.Time}
	text := fmt.Sprintf("%d passed, %d failed, %d errored, %d unfinished; %d turns, %d errored",
		sum.Passed, sum.Failed, sum.Errored, sum.Unfinished, sum.Turns, sum.TurnErrors)
	gated := len(run.Load.Thresholds) > 0
	switch {
	case run.Interrupted != "":
		// A merge ran to its end; which of its shards stopped, and after how
		// long, is what the table says and what the reader must act on.
		what := "stopped early: " + run.Interrupted
		if stopped := StoppedParts(run.Test); len(stopped) > 0 {
			what = strings.Join(stopped, "; ")
		}
		conv.Error = clean(&junitOutcome{Type: "interrupted", Message: what + "; " + text, Text: sampleText(run)})
	case !gated && sum.Failed > 0:
		conv.Failure = clean(&junitOutcome{Type: "conversations", Message: text, Text: sampleText(run)})
	case !gated && sum.Errored+sum.Unfinished > 0:
		conv.Error = clean(&junitOutcome{Type: "conversations", Message: text, Text: sampleText(run)})
	default:
		conv.SystemOut = &junitText{Text: xmlText(text)}
	}
	s.Cases = append(s.Cases, conv)
	if inc := run.Incomplete; inc != nil {
		// The shards were left out on purpose (--allow-partial), and the
		// exit code is the thresholds': skipped, as what was deliberately not
		// run is, never a plain pass.
		s.Cases = append(s.Cases, junitCase{Name: "shards", Classname: "load", Time: "0",
			Skipped: clean(&junitOutcome{Message: "incomplete: " + incompleteText(inc)})})
	}

	for _, tc := range s.Cases {
		s.Tests++
		switch {
		case tc.Failure != nil:
			s.Failures++
		case tc.Error != nil:
			s.Errors++
		case tc.Skipped != nil:
			s.Skipped++
		}
	}
	doc.Tests, doc.Failures, doc.Errors, doc.Skipped = s.Tests, s.Failures, s.Errors, s.Skipped
	doc.Suites = []junitSuite{s}
	return doc
}

// sampleText lists the sampled conversations that did not pass.
func sampleText(run *results.Run) string {
	var text string
	for _, c := range run.Conversations {
		text += fmt.Sprintf("%s %s / %s: %s\n", verdictLabel(c.Status), c.Suite, c.Name, c.Reason)
	}
	return text
}
