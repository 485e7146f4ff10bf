// Package report renders a finished run for people and for machines: a
// terminal table, JUnit XML and the canonical JSON record, plus the progress
// shown while conversations finish. Every report is a function of a
// *results.Run and an io.Writer; none of them knows how the run was made.
package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

// Reporter writes one report of a run to w.
type Reporter interface {
	Report(w io.Writer, run *results.Run) error
}

// ReporterFunc adapts a plain report function to Reporter.
type ReporterFunc func(w io.Writer, run *results.Run) error

// Report calls f(w, run).
func (f ReporterFunc) Report(w io.Writer, run *results.Run) error { return f(w, run) }

// TableReporter returns the terminal table, with opts, as a Reporter.
func TableReporter(opts TableOptions) Reporter {
	return ReporterFunc(func(w io.Writer, run *results.Run) error { return Table(w, run, opts) })
}

var (
	_ Reporter = ReporterFunc(JUnit)
	_ Reporter = ReporterFunc(JSON)
	_ Reporter = TableReporter(TableOptions{})
)

// verdictLabel is how people-facing reports name a status.
func verdictLabel(s results.Status) string {
	switch s {
	case results.Passed:
		return "PASSED"
	case results.Failed:
		return "FAILED"
	case results.Errored:
		return "ERRORED"
	case results.Flaky:
		return "FLAKY"
	case results.Skipped:
		return "SKIPPED"
	case results.Unfinished:
		return "UNFINISHED"
	}
	if s == "" {
		return "UNKNOWN"
	}
	return strings.ToUpper(oneLine(string(s)))
}

// formatMS prints a latency or duration in the unit a person reads fastest:
// "840ms", "1.2s", "2m5s".
func formatMS(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0:
		return "-"
	case ms == 0:
		return "0ms"
	case ms < 1:
		return "<1ms"
	case ms < 999.5:
		return strconv.FormatFloat(math.Round(ms), 'f', 0, 64) + "ms"
	case ms < 59_950:
		return strconv.FormatFloat(ms/1000, 'f', 1, 64) + "s"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Second).String()
}

// plural returns "1 turn" or "3 turns".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// runsLabel is "17/20": runs that passed out of runs made.
func runsLabel(c *results.Conversation) string {
	return strconv.Itoa(c.PassedRuns) + "/" + strconv.Itoa(c.Runs)
}

// location is "file:line", or as much of it as is known.
func location(c *results.Conversation) string {
	switch {
	case c.File == "":
		return ""
	case c.Line <= 0:
		return c.File
	}
	return c.File + ":" + strconv.Itoa(c.Line)
}

// failureText is "turn 2: contains: message" without repeating "final" when
// the check's own name already says it.
func failureText(f results.Failure) string {
	where := f.Where()
	if strings.HasPrefix(f.Check, where+".") {
		return f.Check + ": " + f.Message
	}
	return where + ": " + f.Check + ": " + f.Message
}

// oneLine makes text from a bot or a suite safe to print on one terminal
// line: line breaks and tabs become spaces, other control characters (which
// could move the cursor or recolour the screen) are shown escaped, and bytes
// that are not UTF-8 become U+FFFD.
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r) // RuneError from bad bytes is written as U+FFFD
		}
	}
	return b.String()
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return strings.TrimRight(s[:i], " ") + "…"
}

// conversations returns the run's conversations without nil entries, so
// reports need not guard every access.
func conversations(run *results.Run) []*results.Conversation {
	out := make([]*results.Conversation, 0, len(run.Conversations))
	for _, c := range run.Conversations {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}
