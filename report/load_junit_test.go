package report

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evalrun/evalrun/results"
)

func TestLoadJUnit(t *testing.T) {
	type outcome struct {
		Message string `xml:"message,attr"`
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string   `xml:"name,attr"`
				Classname string   `xml:"classname,attr"`
				Failure   *outcome `xml:"failure"`
				Error     *outcome `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	run := openLoadRun()
	var buf bytes.Buffer
	if err := JUnit(&buf, run); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var failing, missing int
	for _, th := range run.Load.Thresholds {
		switch {
		case th.Missing:
			missing++
		case !th.Passed:
			failing++
		}
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name != "load" || doc.Tests != len(run.Load.Thresholds)+1 {
		t.Fatalf("want one load suite with a case per threshold and one for conversations: %+v", doc)
	}
	if doc.Failures != failing || doc.Errors != missing {
		t.Errorf("failures %d errors %d, want %d and %d", doc.Failures, doc.Errors, failing, missing)
	}
	for i, th := range run.Load.Thresholds {
		c := doc.Suites[0].Cases[i]
		if c.Name != th.Expr || c.Classname != "thresholds" {
			t.Errorf("case %d: %+v for %s", i, c, th.Expr)
		}
		if !th.Passed && !th.Missing && (c.Failure == nil || !strings.HasPrefix(c.Failure.Message, th.Expr+": measured ")) {
			t.Errorf("a crossed threshold must fail with its measured value: %+v", c)
		}
	}

	// Without thresholds, failed conversations fail the run.
	closed := closedLoadRun()
	closed.Load.Thresholds = nil
	closed.Summary.Failed = 2
	buf.Reset()
	if err := JUnit(&buf, closed); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<failure message="`) {
		t.Errorf("failed conversations with no thresholds must fail the report:\n%s", buf.String())
	}

	for name, r := range map[string]*results.Run{"open": openLoadRun(), "closed": closed} {
		t.Run("schema "+name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".xml")
			writeReport(t, path, JUnit, r)
			validateSchema(t, path)
		})
	}
}

// A merge with a stopped shard names the shard in its JUnit error, as the
// table does, and not only the reason the shard gave.
func TestLoadJUnitNamesTheStoppedShard(t *testing.T) {
	run := partialRun()
	run.Interrupted = "terminated (SIGTERM)"
	run.Test.Parts[1].Interrupted, run.Test.Parts[1].RanMS = "terminated (SIGTERM)", 2700
	var b bytes.Buffer
	if err := JUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `message="shard 2/4 stopped early after 2.7s: terminated (SIGTERM); `) {
		t.Errorf("the JUnit error does not name the stopped shard:\n%s", b.String())
	}
	// A record stopped itself says why, as before.
	run.Test.Parts = nil
	b.Reset()
	if err := JUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `message="stopped early: terminated (SIGTERM); `) {
		t.Errorf("the JUnit error of a stopped record:\n%s", b.String())
	}
}
