package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evalrun/evalrun/results"
)

// The JUnit layout, as ../shared/schemas/junit.xsd allows it.
type (
	junitSuites struct {
		XMLName   xml.Name     `xml:"testsuites"`
		Name      string       `xml:"name,attr"`
		Tests     int          `xml:"tests,attr"`
		Failures  int          `xml:"failures,attr"`
		Errors    int          `xml:"errors,attr"`
		Skipped   int          `xml:"skipped,attr"`
		Time      string       `xml:"time,attr"`
		Timestamp string       `xml:"timestamp,attr,omitempty"`
		Suites    []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string           `xml:"name,attr"`
		Tests      int              `xml:"tests,attr"`
		Failures   int              `xml:"failures,attr"`
		Errors     int              `xml:"errors,attr"`
		Skipped    int              `xml:"skipped,attr"`
		Time       string           `xml:"time,attr"`
		Timestamp  string           `xml:"timestamp,attr,omitempty"`
		File       string           `xml:"file,attr,omitempty"`
		Properties *junitProperties `xml:"properties,omitempty"`
		Cases      []junitCase      `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Time      string        `xml:"time,attr"`
		Failure   *junitOutcome `xml:"failure,omitempty"`
		Error     *junitOutcome `xml:"error,omitempty"`
		Skipped   *junitOutcome `xml:"skipped,omitempty"`
		// Flaky and FlakyErrors are the failed and errored runs of a
		// conversation that passed overall, as Maven Surefire writes a test
		// that passed on a rerun: the case stays green and keeps the evidence.
		Flaky       []junitOutcome `xml:"flakyFailure"`
		FlakyErrors []junitOutcome `xml:"flakyError"`
		SystemOut   *junitText     `xml:"system-out,omitempty"`
	}
	junitOutcome struct {
		Message string `xml:"message,attr,omitempty"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",cdata"`
	}
	// junitText is element text kept as CDATA: encoding/xml would write
	// every line break of a transcript as &#xA; in plain character data.
	junitText struct {
		Text string `xml:",cdata"`
	}
)

// Limits that keep a JUnit file readable in CI viewers; the JSON report keeps
// everything.
const (
	maxJUnitMessageRunes = 500
	maxJUnitReplyRunes   = 4000
)

// JUnit writes the run as JUnit XML valid against ../shared/schemas/junit.xsd:
// a testsuite per suite, in run order, with the suite's file and its own
// wall time, and a testcase per conversation with classname = suite, the
// conversation's file and line, and the time of all its runs. A failed
// conversation carries a <failure> whose message is its first failure and
// whose text lists every failure and then the transcript; an errored one an
// <error> with the cause; a flaky one passes, with a <flakyFailure> (or
// <flakyError>) per run that did not pass and its pass rate and transcript in
// <system-out>; a skipped one a <skipped>. An unfinished conversation (cut
// short by a signal, --fail-fast or the load grace period) is an <error>, not
// a skip: CI tools must never show green for a run that exits non-zero.
// Text from bots is stripped of characters XML 1.0 cannot carry.
//
// A load run (run.Load set) is reported by its gates instead: see loadJUnit.
func JUnit(w io.Writer, run *results.Run) error {
	if run == nil {
		return errors.New("report: junit: no run")
	}
	if run.Load != nil {
		return writeJUnit(w, loadJUnit(run))
	}
	doc := junitSuites{
		Name: "evalrun",
		Time: junitTime(run.DurationMS),
	}
	if !run.StartedAt.IsZero() {
		doc.Timestamp = run.StartedAt.UTC().Format(time.RFC3339)
	}

	for _, g := range groupBySuite(run) {
		s := junitSuite{
			Name:      xmlText(g.suite.Name),
			Time:      junitTime(g.suite.DurationMS),
			Timestamp: doc.Timestamp,
			File:      xmlText(g.suite.File),
		}
		s.Properties = judgeProperties(g.convs)
		for _, c := range g.convs {
			tc := junitTestcase(c)
			s.Tests++
			switch {
			case tc.Failure != nil:
				s.Failures++
			case tc.Error != nil:
				s.Errors++
			case tc.Skipped != nil:
				s.Skipped++
			}
			s.Cases = append(s.Cases, tc)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	return writeJUnit(w, doc)
}

func writeJUnit(w io.Writer, doc junitSuites) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	return nil
}

func junitTestcase(c *results.Conversation) junitCase {
	tc := junitCase{
		Name:      xmlText(c.Name),
		Classname: xmlText(c.Suite),
		File:      xmlText(c.File),
		Line:      max(c.Line, 0),
		Time:      junitTime(c.DurationMS),
	}
	if c.TotalMS > 0 {
		tc.Time = junitTime(c.TotalMS)
	}
	failures := c.Failures()
	switch c.Status {
	case results.Failed:
		out := &junitOutcome{Type: "failure", Message: "failed"}
		if len(failures) > 0 {
			out.Type = failures[0].Check
			out.Message = failureText(failures[0])
		} else if c.Reason != "" {
			out.Message = c.Reason
		}
		out.Text = failureBody(c, failures)
		tc.Failure = clean(out)
	case results.Errored:
		out := &junitOutcome{Type: "error", Message: c.Reason}
		for _, f := range failures {
			if f.Check == "error" {
				out.Message = failureText(f)
				break
			}
		}
		if out.Message == "" {
			out.Message = "errored"
		}
		out.Text = failureBody(c, failures)
		tc.Error = clean(out)
	case results.Flaky:
		tc.Flaky, tc.FlakyErrors = flakyRuns(c)
		tc.SystemOut = &junitText{Text: xmlText(failureBody(c, failures))}
	case results.Skipped:
		tc.Skipped = clean(&junitOutcome{Message: c.Reason})
	case results.Unfinished:
		// Not a verdict on the bot, but not a pass either: the run exits
		// non-zero, and a <skipped> would read as green in Allure, GitLab
		// and Jenkins. Only what was deliberately not run is skipped.
		tc.Error = clean(&junitOutcome{Type: "unfinished", Message: "unfinished: " + c.Reason, Text: failureBody(c, failures)})
	}
	return tc
}

// flakyRuns returns a <flakyFailure> per failed run and a <flakyError> per
// errored run of c, numbered in the order the runs ended. A record without
// RunResults (written before they existed) yields none; the case's
// <system-out> still gives the pass rate.
func flakyRuns(c *results.Conversation) (failed, errored []junitOutcome) {
	for i, r := range c.RunResults {
		if r.Status == results.Passed {
			continue
		}
		head := fmt.Sprintf("run %d of %d %s after %s", i+1, len(c.RunResults), r.Status, formatMS(r.DurationMS))
		text := head + "\n"
		if detail := strings.TrimSpace(r.Detail); detail != "" {
			text += detail + "\n"
		} else if r.Message != "" {
			text += r.Message + "\n"
		}
		msg := r.Message
		if msg == "" {
			msg = head
		}
		if r.Status == results.Errored {
			errored = append(errored, *clean(&junitOutcome{Type: "errored", Message: msg, Text: text}))
		} else {
			failed = append(failed, *clean(&junitOutcome{Type: "failed", Message: msg, Text: text}))
		}
	}
	return failed, errored
}

// clean makes an outcome safe for XML and keeps its message short enough
// for the one-line summaries CI tools show.
func clean(o *junitOutcome) *junitOutcome {
	o.Message = xmlText(truncate(strings.Join(strings.Fields(o.Message), " "), maxJUnitMessageRunes))
	o.Type = xmlText(o.Type)
	o.Text = xmlText(o.Text)
	return o
}

// failureBody is the text inside <failure>, <error> or a flaky case's
// <system-out>: what went wrong, then the transcript that shows it.
func failureBody(c *results.Conversation, failures []results.Failure) string {
	var b strings.Builder
	if loc := location(c); loc != "" {
		b.WriteString(loc + "\n")
	}
	if c.Runs > 1 {
		rate := 100 * float64(c.PassedRuns) / float64(c.Runs)
		fmt.Fprintf(&b, "passed %s runs (%.0f%%)", runsLabel(c), rate)
		if c.PassedRuns < c.Runs {
			b.WriteString("; the failures and transcript are the first failing run's")
		}
		b.WriteString("\n")
	}
	if len(failures) == 0 && c.Reason != "" {
		b.WriteString(c.Reason + "\n")
	}
	width := 0
	for _, f := range failures {
		width = max(width, len(f.Where()))
	}
	for _, f := range failures {
		fmt.Fprintf(&b, "%-*s  %s: %s\n", width, f.Where(), f.Check, f.Message)
	}
	if len(c.Turns) > 0 {
		b.WriteString("\ntranscript")
		if c.SessionID != "" {
			b.WriteString(" (session " + c.SessionID + ")")
		}
		b.WriteString(":\n")
		for _, t := range c.Turns {
			if t != nil {
				writeTurn(&b, t)
			}
		}
	}
	return b.String()
}

func writeTurn(b *strings.Builder, t *results.Turn) {
	fmt.Fprintf(b, "turn %d  %s", t.Index, formatMS(t.LatencyMS))
	if t.Handoff {
		b.WriteString("  handoff")
	}
	b.WriteString("\n")
	if t.IsAgent() {
		writeIndented(b, "  agent: ", t.User)
	} else {
		writeIndented(b, "  user: ", t.User)
	}
	switch {
	case t.Error != "":
		writeIndented(b, "  error: ", t.Error)
	case t.Silent:
		b.WriteString("  bot:  (silent)\n")
	default:
		reply := t.Reply
		if n := utf8.RuneCountInString(reply); n > maxJUnitReplyRunes {
			reply = truncate(reply, maxJUnitReplyRunes) + " (" + strconv.Itoa(n-maxJUnitReplyRunes+1) + " more characters)"
		}
		writeIndented(b, "  bot:  ", reply)
	}
}

// writeIndented writes a possibly multi-line text after label, indenting
// continuation lines under the first so the transcript stays readable.
func writeIndented(b *strings.Builder, label, text string) {
	pad := strings.Repeat(" ", len(label))
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	text = strings.TrimRight(text, " \t\n")
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t")
		switch {
		case i == 0:
			b.WriteString(label + line)
		case line != "":
			b.WriteString(pad + line)
		}
		b.WriteString("\n")
	}
}

// suiteGroup is one suite and its conversations, in run order.
type suiteGroup struct {
	suite results.Suite
	convs []*results.Conversation
}

// groupBySuite assigns conversations to the run's suites by suite name, the
// identity CI tools and baselines key on, so a file spelled differently
// ("./a.yaml") does not split a suite in two. A name listed with more than
// one file (a record from before suite names had to be unique) is told
// apart by file. A conversation whose suite is not listed gets a group of
// its own after the listed ones, so nothing is dropped from the report.
func groupBySuite(run *results.Run) []*suiteGroup {
	files := map[string]map[string]bool{}
	for _, s := range run.Suites {
		if files[s.Name] == nil {
			files[s.Name] = map[string]bool{}
		}
		files[s.Name][s.File] = true
	}
	key := func(name, file string) string {
		if len(files[name]) > 1 {
			return name + "\x00" + file
		}
		return name
	}
	var groups []*suiteGroup
	byKey := map[string]*suiteGroup{}
	for _, s := range run.Suites {
		k := key(s.Name, s.File)
		if _, dup := byKey[k]; dup {
			continue
		}
		g := &suiteGroup{suite: s}
		byKey[k] = g
		groups = append(groups, g)
	}
	for _, c := range conversations(run) {
		k := key(c.Suite, c.File)
		g, ok := byKey[k]
		if !ok {
			g = &suiteGroup{suite: results.Suite{Name: c.Suite, File: c.File}}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.convs = append(g.convs, c)
	}
	return groups
}

// junitTime is a duration in seconds as the schema's SUREFIRE_TIME wants
// it: plain digits, at most three decimals, never an exponent or a sign.
func junitTime(ms float64) string {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0 {
		ms = 0
	}
	return strconv.FormatFloat(ms/1000, 'f', 3, 64)
}

// xmlText drops what XML 1.0 cannot carry at all: control characters other
// than tab, newline and carriage return, surrogates, U+FFFE and U+FFFF.
// Bytes that are not UTF-8 become U+FFFD.
func xmlText(s string) string {
	ok := func(r rune) bool {
		return r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	}
	clean := utf8.ValidString(s)
	if clean {
		for _, r := range s {
			if !ok(r) {
				clean = false
				break
			}
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if ok(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
