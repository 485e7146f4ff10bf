package report

import (
	"bytes"
	"encoding/xml"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

// gitlabCase is a testcase as GitLab's unit test report reads it
// (lib/gitlab/ci/parsers/test/junit.rb, reports/test_case.rb): the
// testcase's classname is the "Suite" column, name the "Name" column, file
// the "File" column, time the duration in seconds; the status is failed,
// error, skipped or success by which child element is present, and what it
// shows for a failed, errored or skipped case is that element's text. The
// case's identity is its testsuite's name, classname and name together, and
// only the first of duplicates is kept.
type gitlabCase struct {
	suite, classname, name, file, time string
	status                             string
	output                             string // the failure, error or skipped text
	outputType                         string // that element's type attribute
}

func readAsGitLab(t *testing.T, data []byte) []gitlabCase {
	t.Helper()
	type outcome struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string   `xml:"name,attr"`
				Classname string   `xml:"classname,attr"`
				File      string   `xml:"file,attr"`
				Time      string   `xml:"time,attr"`
				Failure   *outcome `xml:"failure"`
				Error     *outcome `xml:"error"`
				Skipped   *outcome `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []gitlabCase
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			gc := gitlabCase{suite: s.Name, classname: c.Classname, name: c.Name, file: c.File, time: c.Time, status: "success"}
			// In GitLab's order: failure before error before skipped.
			for _, o := range []struct {
				status string
				el     *outcome
			}{{"failed", c.Failure}, {"error", c.Error}, {"skipped", c.Skipped}} {
				if o.el != nil {
					gc.status, gc.output, gc.outputType = o.status, o.el.Text, o.el.Type
					break
				}
			}
			out = append(out, gc)
		}
	}
	return out
}

// railsTypes are the type attributes Rails' Hash.from_xml, which GitLab
// parses the report with, reads as the element's data type and converts the
// text by (base64Binary decodes it, yaml parses it...), instead of keeping it.
// evalrun's types are check names ("contains", "final.status"), "error" and
// "unfinished": none of these, and the fixture shows it.
var railsTypes = []string{"symbol", "date", "datetime", "dateTime", "integer", "float", "decimal",
	"boolean", "string", "yaml", "base64Binary", "binary", "file", "array", "hash"}

// TestJUnitAsGitLabReadsIt checks the fields GitLab uses, on the fixture
// with every verdict: each conversation is one case GitLab keeps, named and
// filed so that people find it, with a duration in seconds, the status the
// exit code implies, and a text that says what failed (GitLab shows the
// element's text, not its message attribute).
func TestJUnitAsGitLabReadsIt(t *testing.T) {
	run := fixtureRun()
	var b bytes.Buffer
	if err := JUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	cases := readAsGitLab(t, b.Bytes())

	convs := conversations(run)
	if len(cases) != len(convs) {
		t.Fatalf("GitLab sees %d cases, the run has %d conversations", len(cases), len(convs))
	}
	wantStatus := map[results.Status]string{
		results.Passed: "success", results.Flaky: "success", results.Skipped: "skipped",
		results.Failed: "failed", results.Errored: "error", results.Unfinished: "error",
	}
	seen := map[string]bool{}
	for i, gc := range cases {
		c := convs[i]
		id := gc.suite + "\x00" + gc.classname + "\x00" + gc.name
		if seen[id] {
			t.Errorf("case %q/%q is a duplicate: GitLab keeps only the first", gc.classname, gc.name)
		}
		seen[id] = true
		if gc.classname != xmlText(c.Suite) || gc.name != xmlText(c.Name) {
			t.Errorf("case %d: Suite column %q and Name %q, want the suite %q and the conversation %q", i, gc.classname, gc.name, c.Suite, c.Name)
		}
		if gc.file != xmlText(c.File) || gc.file == "" {
			t.Errorf("%s: File column %q, want the suite file %q", c.Name, gc.file, c.File)
		}
		secs, err := strconv.ParseFloat(gc.time, 64)
		wantMS := c.DurationMS
		if c.TotalMS > 0 {
			wantMS = c.TotalMS
		}
		if err != nil || math.Abs(secs*1000-wantMS) > 1 {
			t.Errorf("%s: time %q, want %.3f seconds (GitLab reads seconds)", c.Name, gc.time, wantMS/1000)
		}
		if gc.status != wantStatus[c.Status] {
			t.Errorf("%s (%s): GitLab status %q, want %q", c.Name, c.Status, gc.status, wantStatus[c.Status])
		}
		for _, rt := range railsTypes {
			if strings.EqualFold(gc.outputType, rt) {
				t.Errorf("%s: type=%q makes Rails convert the text GitLab shows", c.Name, gc.outputType)
			}
		}
		if gc.status == "failed" || gc.status == "error" {
			text := gc.output
			if !strings.Contains(text, location(c)) {
				t.Errorf("%s: GitLab's text does not say where the conversation is (%s):\n%s", c.Name, location(c), text)
			}
			if f := c.Failures(); len(f) > 0 && !strings.Contains(text, xmlText(f[0].Message)) {
				t.Errorf("%s: GitLab's text lacks the first failure %q:\n%s", c.Name, f[0].Message, text)
			}
			if c.Status == results.Unfinished && !strings.Contains(text, c.Reason) {
				t.Errorf("%s: GitLab's text does not say why it is unfinished:\n%s", c.Name, text)
			}
		}
	}
}
