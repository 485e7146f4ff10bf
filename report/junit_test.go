package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evalrun/evalrun/results"
)

// interruptedRun is a run stopped by Ctrl-C with repeats in it: a flaky
// conversation whose failed runs are kept one by one, a repeated one that
// failed, an agent: turn, conversations the interrupt cut short or never
// started, and conversations skipped by selection and by the suite. One
// conversation spells its suite's file differently: it still belongs to
// that suite's testsuite.
func interruptedRun() *results.Run {
	pass := func(check string) results.Assertion { return results.Assertion{Check: check, Passed: true} }
	fail := func(check, msg string) results.Assertion { return results.Assertion{Check: check, Message: msg} }
	return &results.Run{
		Schema:      results.Schema,
		RunID:       "run-interrupted",
		StartedAt:   time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC),
		DurationMS:  12345.6,
		Interrupted: "interrupted (SIGINT)",
		Summary: results.Summary{
			Conversations: 7, Passed: 1, Failed: 1, Flaky: 1, Skipped: 2, Unfinished: 2, Turns: 7,
		},
		Suites: []results.Suite{
			{Name: "refunds", File: "examples/refunds.yaml", Provider: "opencx", DurationMS: 9000},
			{Name: "billing", File: "suites/billing.yaml", Provider: "toolzz", DurationMS: 4000.5},
		},
		Conversations: []*results.Conversation{
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 10, Name: "angry customer is handed off",
				Status: results.Flaky, Runs: 4, PassedRuns: 2, DurationMS: 950, TotalMS: 3900,
				Turns: []*results.Turn{
					{Index: 1, Sender: results.SenderUser, User: "Get me a human!", Reply: "Let me check.", LatencyMS: 950,
						Assertions: []results.Assertion{fail("handoff", "expected a handoff to a human, got none")}},
				},
				RunResults: []results.RunResult{
					{Status: results.Passed, DurationMS: 1000},
					{Status: results.Failed, DurationMS: 950,
						Message: "turn 1: handoff: expected a handoff to a human, got none",
						Detail:  "turn 1: handoff: expected a handoff to a human, got none"},
					{Status: results.Errored, DurationMS: 1050,
						Message: "turn 1: error: opencx: send-message: 503 Service Unavailable",
						Detail:  "turn 1: error: opencx: send-message: 503 Service Unavailable"},
					{Status: results.Passed, DurationMS: 900},
				},
			},
			{
				Suite: "refunds", File: "examples/refunds.yaml", Line: 20, Name: "agent takes over",
				Status: results.Passed, Runs: 1, PassedRuns: 1, DurationMS: 700,
				Turns: []*results.Turn{
					{Index: 1, Sender: results.SenderUser, User: "I need a person", Reply: "Handing you over.", Handoff: true, LatencyMS: 400, Assertions: []results.Assertion{pass("handoff")}},
					{Index: 2, Sender: results.SenderAgent, User: "Hi, Maria from support here", Silent: true, LatencyMS: 300, Assertions: []results.Assertion{pass("reply")}},
				},
			},
			{
				Suite: "refunds", File: "./examples/refunds.yaml", Line: 30, Name: "refund policy",
				Status: results.Failed, Runs: 3, PassedRuns: 1, DurationMS: 1000, TotalMS: 3000,
				Turns: []*results.Turn{
					{Index: 1, Sender: results.SenderAgent, User: "A note from the agent", Reply: "We refund within 30 days.", LatencyMS: 610,
						Assertions: []results.Assertion{fail("knowledge", `expected knowledge source "faq", got ["blog"]`)}},
				},
				RunResults: []results.RunResult{
					{Status: results.Failed, DurationMS: 1000, Message: `turn 1: knowledge: expected knowledge source "faq", got ["blog"]`},
					{Status: results.Passed, DurationMS: 1000},
					{Status: results.Failed, DurationMS: 1000, Message: `turn 1: knowledge: expected knowledge source "faq", got ["blog"]`},
				},
			},
			{
				Suite: "billing", File: "suites/billing.yaml", Line: 5, Name: "cut short by Ctrl-C",
				Status: results.Unfinished, Runs: 1, Reason: "interrupted (SIGINT) during turn 2",
				Turns: []*results.Turn{
					{Index: 1, Sender: results.SenderUser, User: "hello", Reply: "Hi!", LatencyMS: 100, Assertions: []results.Assertion{pass("contains")}},
				},
			},
			{
				Suite: "billing", File: "suites/billing.yaml", Line: 15, Name: "never started",
				Status: results.Unfinished, Reason: "not started: interrupted (SIGINT)",
			},
			{
				Suite: "billing", File: "suites/billing.yaml", Line: 25, Name: "not selected",
				Status: results.Skipped, Reason: "not selected: has none of the tags smoke",
			},
			{
				Suite: "billing", File: "suites/billing.yaml", Line: 35, Name: "skipped in the suite",
				Status: results.Skipped, Reason: "skip: waiting on BOT-12",
			},
		},
	}
}

// junitDoc is what the tests read back from a JUnit report.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		File     string `xml:"file,attr"`
		Time     string `xml:"time,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name          string          `xml:"name,attr"`
			Time          string          `xml:"time,attr"`
			Failure       *junitReadBack  `xml:"failure"`
			Error         *junitReadBack  `xml:"error"`
			Skipped       *junitReadBack  `xml:"skipped"`
			FlakyFailures []junitReadBack `xml:"flakyFailure"`
			FlakyErrors   []junitReadBack `xml:"flakyError"`
			SystemOut     string          `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitReadBack struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func renderJUnit(t *testing.T, run *results.Run) ([]byte, junitDoc) {
	t.Helper()
	var buf bytes.Buffer
	if err := JUnit(&buf, run); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	return buf.Bytes(), doc
}

func TestJUnitInterruptedRun(t *testing.T) {
	raw, doc := renderJUnit(t, interruptedRun())
	checkGolden(t, "interrupted.junit.xml", raw)

	if len(doc.Suites) != 2 {
		t.Fatalf("want one testsuite per suite (refunds, billing), got %d:\n%s", len(doc.Suites), raw)
	}
	refunds, billing := doc.Suites[0], doc.Suites[1]
	if refunds.Name != "refunds" || refunds.File != "examples/refunds.yaml" || refunds.Time != "9.000" || refunds.Tests != 3 {
		t.Errorf("refunds testsuite: name %q file %q time %s tests %d", refunds.Name, refunds.File, refunds.Time, refunds.Tests)
	}
	if billing.Name != "billing" || billing.Time != "4.000" || billing.Tests != 4 {
		t.Errorf("billing testsuite: name %q time %s tests %d", billing.Name, billing.Time, billing.Tests)
	}

	// A run that exits non-zero is never all-green: what the interrupt cut
	// short is an error; only what was deliberately not run is skipped.
	if refunds.Failures != 1 || refunds.Errors != 0 || refunds.Skipped != 0 {
		t.Errorf("refunds: %d failures, %d errors, %d skipped; want 1, 0, 0", refunds.Failures, refunds.Errors, refunds.Skipped)
	}
	if billing.Failures != 0 || billing.Errors != 2 || billing.Skipped != 2 {
		t.Errorf("billing: %d failures, %d errors, %d skipped; want 0, 2, 2", billing.Failures, billing.Errors, billing.Skipped)
	}
	if doc.Tests != 7 || doc.Failures != 1 || doc.Errors != 2 || doc.Skipped != 2 {
		t.Errorf("testsuites: %d tests, %d failures, %d errors, %d skipped; want 7, 1, 2, 2", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	for _, c := range billing.Cases[:2] {
		if c.Error == nil || c.Error.Type != "unfinished" || !strings.HasPrefix(c.Error.Message, "unfinished: ") || c.Skipped != nil {
			t.Errorf("%s: an unfinished conversation must be an <error type=unfinished>: %+v", c.Name, c)
		}
	}
	for _, c := range billing.Cases[2:] {
		if c.Skipped == nil || c.Error != nil {
			t.Errorf("%s: a conversation not run by choice must stay <skipped>: %+v", c.Name, c)
		}
	}

	// A flaky conversation passes and carries each failed run, in order,
	// the way Maven Surefire writes a flaky test.
	flaky := refunds.Cases[0]
	if flaky.Failure != nil || flaky.Error != nil || flaky.Skipped != nil {
		t.Errorf("a flaky conversation must pass: %+v", flaky)
	}
	if len(flaky.FlakyFailures) != 1 || len(flaky.FlakyErrors) != 1 {
		t.Fatalf("want a flakyFailure for the failed run and a flakyError for the errored one, got %+v", flaky)
	}
	if f := flaky.FlakyFailures[0]; f.Message != "turn 1: handoff: expected a handoff to a human, got none" || !strings.Contains(f.Text, "run 2 of 4") {
		t.Errorf("flakyFailure: %+v", f)
	}
	if e := flaky.FlakyErrors[0]; !strings.Contains(e.Message, "503") || !strings.Contains(e.Text, "run 3 of 4") {
		t.Errorf("flakyError: %+v", e)
	}

	// Repeated conversations take the time of all their runs.
	if flaky.Time != "3.900" || refunds.Cases[2].Time != "3.000" || refunds.Cases[1].Time != "0.700" {
		t.Errorf("times %s, %s, %s; want 3.900 (all runs), 0.700 (one run), 3.000 (all runs)", flaky.Time, refunds.Cases[1].Time, refunds.Cases[2].Time)
	}

	// agent: turns are the agent's in the transcript.
	policy := refunds.Cases[2]
	if policy.Failure == nil || !strings.Contains(policy.Failure.Text, "  agent: A note from the agent\n") || strings.Contains(policy.Failure.Text, "user: A note") {
		t.Errorf("an agent: turn must read as the agent's:\n%+v", policy.Failure)
	}
}

// TestJUnitSuiteNotFile: conversations belong to their suite's testsuite
// whatever spelling of the file they carry; suites listed twice under one
// name (a record from before names were unique) stay apart by file.
func TestJUnitSuiteNotFile(t *testing.T) {
	run := &results.Run{
		Suites: []results.Suite{
			{Name: "a", File: "a.yaml"},
			{Name: "dup", File: "x/dup.yaml"},
			{Name: "dup", File: "y/dup.yaml"},
		},
		Conversations: []*results.Conversation{
			{Suite: "a", File: "./a.yaml", Name: "one", Status: results.Passed},
			{Suite: "a", Name: "two", Status: results.Passed},
			{Suite: "dup", File: "y/dup.yaml", Name: "three", Status: results.Passed},
			{Suite: "dup", File: "x/dup.yaml", Name: "four", Status: results.Passed},
			{Suite: "unlisted", File: "u.yaml", Name: "five", Status: results.Passed},
		},
	}
	_, doc := renderJUnit(t, run)
	var got []string
	for _, s := range doc.Suites {
		var names []string
		for _, c := range s.Cases {
			names = append(names, c.Name)
		}
		got = append(got, s.Name+"("+s.File+"):"+strings.Join(names, ","))
	}
	want := []string{"a(a.yaml):one,two", "dup(x/dup.yaml):four", "dup(y/dup.yaml):three", "unlisted(u.yaml):five"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("testsuites\n got %v\nwant %v", got, want)
	}
}

func TestJUnitInterruptedSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	writeReport(t, path, JUnit, interruptedRun())
	validateSchema(t, path)
	validateSchema(t, filepath.Join("testdata", "interrupted.junit.xml"))
}

// junitparserScript reads a JUnit file the way CI plugins built on
// junitparser do and prints, as JSON, the verdict it sees for every case,
// the totals it recomputes from the cases, and the flaky runs it finds.
const junitparserScript = `
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
out = {"declared": {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "skipped": xml.skipped}, "cases": {}}
for suite in xml:
    for case in suite:
        kinds = [type(r).__name__.lower() for r in case.result]
        out["cases"][suite.name + "/" + case.name] = {
            "verdict": "passed" if case.is_passed else kinds[0],
            "flaky": len(case._elem.findall("flakyFailure")) + len(case._elem.findall("flakyError")),
        }
xml.update_statistics()
out["recomputed"] = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "skipped": xml.skipped}
json.dump(out, sys.stdout)
`

type junitparserView struct {
	Declared, Recomputed map[string]int
	Cases                map[string]struct {
		Verdict string
		Flaky   int
	}
}

func readWithJunitparser(t *testing.T, py string, run *results.Run) junitparserView {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junit.xml")
	writeReport(t, path, JUnit, run)
	out, err := exec.Command(py, "-c", junitparserScript, path).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("junitparser could not read the report: %v\n%s", err, stderr)
	}
	var v junitparserView
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for k, n := range v.Recomputed {
		if v.Declared[k] != n {
			t.Errorf("the report declares %s=%d, its cases add up to %d", k, v.Declared[k], n)
		}
	}
	return v
}

// TestJUnitReadByJunitparser reads the reports with a real consumer,
// Debian's python3-junitparser, and checks that what it sees agrees with
// the exit code: failed, errored and unfinished conversations are not
// green; flaky ones pass with their failed runs attached.
func TestJUnitReadByJunitparser(t *testing.T) {
	py := junitparserPython(t)

	t.Run("interrupted run", func(t *testing.T) {
		v := readWithJunitparser(t, py, interruptedRun())
		want := map[string]struct {
			verdict string
			flaky   int
		}{
			"refunds/angry customer is handed off": {"passed", 2},
			"refunds/agent takes over":             {"passed", 0},
			"refunds/refund policy":                {"failure", 0},
			"billing/cut short by Ctrl-C":          {"error", 0},
			"billing/never started":                {"error", 0},
			"billing/not selected":                 {"skipped", 0},
			"billing/skipped in the suite":         {"skipped", 0},
		}
		if len(v.Cases) != len(want) {
			t.Errorf("junitparser sees %d cases, want %d: %+v", len(v.Cases), len(want), v.Cases)
		}
		for name, w := range want {
			if got := v.Cases[name]; got.Verdict != w.verdict || got.Flaky != w.flaky {
				t.Errorf("%s: junitparser sees %s with %d flaky runs, want %s with %d", name, got.Verdict, got.Flaky, w.verdict, w.flaky)
			}
		}
	})

	t.Run("full run", func(t *testing.T) {
		run := fixtureRun()
		v := readWithJunitparser(t, py, run)
		s := run.Summary
		r := v.Recomputed
		if r["tests"] != s.Conversations || r["failures"] != s.Failed || r["errors"] != s.Errored+s.Unfinished || r["skipped"] != s.Skipped {
			t.Errorf("junitparser counts %v, the summary %+v", r, s)
		}
	})

	t.Run("unfinished load", func(t *testing.T) {
		run := closedLoadRun()
		run.Summary.Passed -= 3
		run.Summary.Unfinished = 3 // the grace period cut them short
		v := readWithJunitparser(t, py, run)
		if got := v.Cases["load/conversations"].Verdict; got != "error" {
			t.Errorf("a load run without thresholds whose conversations the grace period cut short exits 1; junitparser sees %q", got)
		}
	})

	t.Run("interrupted load", func(t *testing.T) {
		run := openLoadRun()
		run.Interrupted = "interrupted (SIGINT)"
		for i := range run.Load.Thresholds {
			run.Load.Thresholds[i].Passed, run.Load.Thresholds[i].Missing = true, false
		}
		v := readWithJunitparser(t, py, run)
		if got := v.Cases["load/conversations"].Verdict; got != "error" {
			t.Errorf("an interrupted load run exits non-zero; junitparser sees its conversations %q", got)
		}
	})
}

// TestJUnitXPath counts with xmllint what a CI tool would count.
func TestJUnitXPath(t *testing.T) {
	xmllint := xmllintPath(t)
	path := filepath.Join(t.TempDir(), "junit.xml")
	writeReport(t, path, JUnit, interruptedRun())
	for expr, want := range map[string]string{
		"count(//testsuite)":             "2",
		"count(//testcase/flakyFailure)": "1",
		"count(//testcase/flakyError)":   "1",
		"count(//testcase[flakyFailure or flakyError][failure or error or skipped])": "0",
		"count(//testcase/error[@type='unfinished'])":                                "2",
		"count(//testcase/skipped)":                                                  "2",
		"string(//testsuite[@name='refunds']/@time)":                                 "9.000",
		"sum(//testsuite/@errors) + sum(//testsuite/@failures)":                      "3",
	} {
		out, err := exec.Command(xmllint, "--xpath", expr, path).Output()
		if err != nil {
			t.Errorf("xmllint --xpath %q: %v", expr, err)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
}
